/// Identity: refresh-token families, e-mailed one-time tokens, TOTP enrolments and login throttles.
///
/// The conventions of ``Migration0001InitialSchema``: `tenant_id` leads every key, constraint and index; row-level security
/// enabled and forced with the same tenant policy; unique constraints named after ``TradesKit/UniqueConstraint``
/// (the primary keys of `two_factor_enrollments` and `login_throttles` are those tables' unique rules, so they carry
/// those names). Tokens are stored as hex SHA-256 only, TOTP secrets only sealed. `login_throttles` is keyed by a hash
/// of tenant and e-mail, not by user, so it has rows for addresses without an account and references only the tenant.
///
/// The app may DELETE from `two_factor_enrollments` alone (turning two-factor authentication off removes the enrolment);
/// every other identity table, like the rest, is never deleted from by the app.
///
/// Frozen: this text is checksummed once applied. Change the schema with a new migration.
enum Migration0002Identity {
    // The tenant predicate of DESIGN.md §2, as in migration 1.
    private static let tenantPredicate = "tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"

    private static let tables = ["refresh_tokens", "one_time_tokens", "two_factor_enrollments", "login_throttles"]

    static let migration = Migration(version: 2, name: "identity", statements: schema + rowLevelSecurity + grants)

    private static let schema: [String] = [
        """
        CREATE TABLE refresh_tokens (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            family_id uuid NOT NULL,
            user_id uuid NOT NULL,
            token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
            issued_at bigint NOT NULL,
            expires_at bigint NOT NULL,
            used_at bigint,
            revoked_at bigint,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT refresh_tokens_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT refresh_token_hash UNIQUE (tenant_id, token_hash),
            CONSTRAINT refresh_tokens_user_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
        )
        """,
        "CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (tenant_id, family_id)",
        "CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (tenant_id, user_id)",
        """
        CREATE TABLE one_time_tokens (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            user_id uuid NOT NULL,
            purpose text NOT NULL CHECK (purpose IN ('email_verification', 'password_reset')),
            token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
            created_at bigint NOT NULL,
            expires_at bigint NOT NULL,
            used_at bigint,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT one_time_tokens_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT one_time_token_hash UNIQUE (tenant_id, token_hash),
            CONSTRAINT one_time_tokens_user_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
        )
        """,
        "CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (tenant_id, user_id, purpose)",
        """
        CREATE TABLE two_factor_enrollments (
            tenant_id uuid NOT NULL,
            user_id uuid NOT NULL,
            sealed_secret bytea NOT NULL,
            created_at bigint NOT NULL,
            confirmed_at bigint,
            last_accepted_step bigint,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT two_factor_user PRIMARY KEY (tenant_id, user_id),
            CONSTRAINT two_factor_enrollments_user_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
        )
        """,
        """
        CREATE TABLE login_throttles (
            tenant_id uuid NOT NULL,
            account_key text NOT NULL CHECK (account_key ~ '^[0-9a-f]{64}$'),
            failures integer NOT NULL CHECK (failures >= 0),
            locked_until bigint,
            last_failure_at bigint,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT login_throttle_key PRIMARY KEY (tenant_id, account_key),
            CONSTRAINT login_throttles_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id)
        )
        """,
    ]

    private static var rowLevelSecurity: [String] {
        tables.flatMap { table in
            [
                "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE \(table) FORCE ROW LEVEL SECURITY",
                "CREATE POLICY tenant_isolation ON \(table) USING (\(tenantPredicate)) WITH CHECK (\(tenantPredicate))",
            ]
        }
    }

    private static let grants: [String] = [
        "GRANT SELECT, INSERT, UPDATE ON refresh_tokens, one_time_tokens, two_factor_enrollments, login_throttles TO tradeskit_app",
        "GRANT DELETE ON two_factor_enrollments TO tradeskit_app",
    ]
}
