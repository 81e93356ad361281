/// The first schema: every table of the storage protocol, tenant isolation by row-level security, and the app role's grants.
///
/// Conventions (shared with the SQLite storage): ids are `uuid`; instants are `BIGINT` milliseconds since 1970 (exact
/// round trip with `Date(millisecondsSince1970:)`); money is a `BIGINT` amount in minor units plus a `TEXT` currency;
/// enums are their raw values as `TEXT` with a `CHECK`; every table has `version BIGINT`. `tenant_id` leads every primary
/// key, unique constraint, foreign key and index (Citus-ready: it is the distribution column). Unique constraints and
/// unique indexes are named after ``TradesKit/UniqueConstraint`` so a violation maps back by name.
///
/// Frozen: this text is checksummed once applied. Change the schema with a new migration.
enum Migration0001InitialSchema {
    // The tenant predicate of DESIGN.md §2. The wrapping SELECT makes the planner evaluate it once per statement.
    private static let tenantPredicate = "tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"
    private static let tenantIDPredicate = "id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"
    private static let platformScope = "(SELECT current_setting('app.scope', true)) = 'platform'"

    private static let tenantTables = [
        "users", "contractor_profiles", "categories", "jobs", "bids", "escrows", "ledger_entries", "disputes", "reviews", "messages",
        "outbox_events", "event_recipients",
    ]

    static let migration = Migration(version: 1, name: "initial_schema", statements: tables + rowLevelSecurity + grants)

    private static let tables: [String] = [
        """
        CREATE TABLE tenants (
            id uuid NOT NULL,
            slug text NOT NULL,
            display_name text NOT NULL,
            settings jsonb NOT NULL,
            created_at bigint NOT NULL,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT tenants_pkey PRIMARY KEY (id),
            CONSTRAINT tenant_slug UNIQUE (slug)
        )
        """,
        "CREATE INDEX tenants_created_idx ON tenants (created_at, id)",
        """
        CREATE TABLE users (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            email text NOT NULL,
            display_name text NOT NULL,
            phone text,
            role text NOT NULL CHECK (role IN ('homeowner', 'contractor', 'admin')),
            password_hash text,
            email_verified boolean NOT NULL,
            suspended boolean NOT NULL,
            created_at bigint NOT NULL,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT users_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT users_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id)
        )
        """,
        "CREATE UNIQUE INDEX user_email ON users (tenant_id, lower(email))",
        "CREATE INDEX users_created_idx ON users (tenant_id, created_at, id)",
        "CREATE INDEX users_role_created_idx ON users (tenant_id, role, created_at, id)",
        """
        CREATE TABLE categories (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            slug text NOT NULL,
            name text NOT NULL,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT categories_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT category_slug UNIQUE (tenant_id, slug),
            CONSTRAINT categories_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id)
        )
        """,
        "CREATE INDEX categories_name_idx ON categories (tenant_id, name, id)",
        """
        CREATE TABLE contractor_profiles (
            tenant_id uuid NOT NULL,
            user_id uuid NOT NULL,
            headline text NOT NULL,
            trades uuid[] NOT NULL,
            service_latitude double precision NOT NULL,
            service_longitude double precision NOT NULL,
            service_radius_km double precision NOT NULL,
            licence_number text,
            licence_region text,
            licence_expires_at bigint,
            insurance_expires_at bigint,
            vetting text NOT NULL CHECK (vetting IN ('pending', 'approved', 'rejected')),
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT contractor_profiles_pkey PRIMARY KEY (tenant_id, user_id),
            CONSTRAINT contractor_profiles_user_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
            CONSTRAINT contractor_profiles_licence_check CHECK (
                (licence_number IS NULL AND licence_region IS NULL AND licence_expires_at IS NULL)
                OR (licence_number IS NOT NULL AND licence_region IS NOT NULL AND licence_expires_at IS NOT NULL))
        )
        """,
        """
        CREATE TABLE jobs (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            owner_id uuid NOT NULL,
            category_id uuid NOT NULL,
            title text NOT NULL,
            description text NOT NULL,
            latitude double precision NOT NULL,
            longitude double precision NOT NULL,
            budget_min_amount bigint NOT NULL,
            budget_min_currency text NOT NULL,
            budget_max_amount bigint NOT NULL,
            budget_max_currency text NOT NULL,
            status text NOT NULL CHECK (status IN ('open', 'awarded', 'in_progress', 'completed', 'disputed', 'closed', 'cancelled')),
            accepted_bid_id uuid,
            contractor_id uuid,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            completed_at bigint,
            closed_at bigint,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT jobs_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT jobs_owner_fkey FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id),
            CONSTRAINT jobs_category_fkey FOREIGN KEY (tenant_id, category_id) REFERENCES categories (tenant_id, id),
            CONSTRAINT jobs_contractor_fkey FOREIGN KEY (tenant_id, contractor_id) REFERENCES users (tenant_id, id)
        )
        """,
        "CREATE INDEX jobs_created_idx ON jobs (tenant_id, created_at DESC, id DESC)",
        "CREATE INDEX jobs_status_created_idx ON jobs (tenant_id, status, created_at DESC, id DESC)",
        "CREATE INDEX jobs_owner_created_idx ON jobs (tenant_id, owner_id, created_at DESC, id DESC)",
        "CREATE INDEX jobs_contractor_created_idx ON jobs (tenant_id, contractor_id, created_at DESC, id DESC)",
        "CREATE INDEX jobs_category_created_idx ON jobs (tenant_id, category_id, created_at DESC, id DESC)",
        "CREATE INDEX jobs_location_idx ON jobs (tenant_id, latitude, longitude)",
        "CREATE INDEX jobs_completed_idx ON jobs (tenant_id, completed_at, id) WHERE status = 'completed'",
        """
        CREATE TABLE bids (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            job_id uuid NOT NULL,
            contractor_id uuid NOT NULL,
            amount bigint NOT NULL,
            currency text NOT NULL,
            message text NOT NULL,
            status text NOT NULL CHECK (status IN ('submitted', 'withdrawn', 'accepted', 'declined')),
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT bids_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT bids_job_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id),
            CONSTRAINT bids_contractor_fkey FOREIGN KEY (tenant_id, contractor_id) REFERENCES users (tenant_id, id)
        )
        """,
        "CREATE UNIQUE INDEX live_bid ON bids (tenant_id, job_id, contractor_id) WHERE status IN ('submitted', 'accepted')",
        "CREATE INDEX bids_job_created_idx ON bids (tenant_id, job_id, created_at, id)",
        "CREATE INDEX bids_contractor_created_idx ON bids (tenant_id, contractor_id, created_at DESC, id DESC)",
        """
        ALTER TABLE jobs ADD CONSTRAINT jobs_accepted_bid_fkey FOREIGN KEY (tenant_id, accepted_bid_id) REFERENCES bids (tenant_id, id)
        """,
        """
        CREATE TABLE escrows (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            job_id uuid NOT NULL,
            bid_id uuid NOT NULL,
            homeowner_id uuid NOT NULL,
            contractor_id uuid NOT NULL,
            amount bigint NOT NULL,
            currency text NOT NULL,
            fee_basis_points integer NOT NULL,
            status text NOT NULL CHECK (status IN ('authorization_pending', 'held', 'captured', 'released', 'refunded',
                                                   'partially_refunded', 'cancelled')),
            payment_reference text,
            transfer_reference text,
            refunded_amount bigint NOT NULL,
            refunded_currency text NOT NULL,
            released_amount bigint NOT NULL,
            released_currency text NOT NULL,
            platform_fee_amount bigint NOT NULL,
            platform_fee_currency text NOT NULL,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT escrows_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT escrow_job UNIQUE (tenant_id, job_id),
            CONSTRAINT escrows_job_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id),
            CONSTRAINT escrows_bid_fkey FOREIGN KEY (tenant_id, bid_id) REFERENCES bids (tenant_id, id),
            CONSTRAINT escrows_homeowner_fkey FOREIGN KEY (tenant_id, homeowner_id) REFERENCES users (tenant_id, id),
            CONSTRAINT escrows_contractor_fkey FOREIGN KEY (tenant_id, contractor_id) REFERENCES users (tenant_id, id)
        )
        """,
        "CREATE INDEX escrows_bid_idx ON escrows (tenant_id, bid_id)",
        """
        CREATE TABLE ledger_entries (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            transaction_id uuid NOT NULL,
            kind text NOT NULL CHECK (kind IN ('hold', 'capture', 'void', 'release', 'refund')),
            job_id uuid NOT NULL,
            account text NOT NULL CHECK (account IN ('authorizations_receivable', 'processor_balance', 'escrow_held',
                                                     'contractor_payable', 'platform_revenue')),
            amount bigint NOT NULL,
            currency text NOT NULL,
            posted_at bigint NOT NULL,
            seq bigint GENERATED ALWAYS AS IDENTITY,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT ledger_entries_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT ledger_entries_job_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id)
        )
        """,
        "CREATE INDEX ledger_entries_posted_idx ON ledger_entries (tenant_id, posted_at, seq)",
        "CREATE INDEX ledger_entries_job_posted_idx ON ledger_entries (tenant_id, job_id, posted_at, seq)",
        "CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (tenant_id, transaction_id)",
        """
        CREATE TABLE disputes (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            job_id uuid NOT NULL,
            opened_by uuid NOT NULL,
            respondent uuid NOT NULL,
            reason text NOT NULL,
            response text,
            status text NOT NULL CHECK (status IN ('awaiting_response', 'under_review', 'resolved')),
            job_status_before text NOT NULL CHECK (job_status_before IN ('open', 'awarded', 'in_progress', 'completed', 'disputed',
                                                                         'closed', 'cancelled')),
            resolution_outcome text CHECK (resolution_outcome IN ('release', 'partial_refund', 'full_refund')),
            resolution_refund_amount bigint,
            resolution_refund_currency text,
            resolution_note text,
            resolved_by uuid,
            resolved_at bigint,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT disputes_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT disputes_job_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id),
            CONSTRAINT disputes_opened_by_fkey FOREIGN KEY (tenant_id, opened_by) REFERENCES users (tenant_id, id),
            CONSTRAINT disputes_respondent_fkey FOREIGN KEY (tenant_id, respondent) REFERENCES users (tenant_id, id),
            CONSTRAINT disputes_resolved_by_fkey FOREIGN KEY (tenant_id, resolved_by) REFERENCES users (tenant_id, id),
            CONSTRAINT disputes_resolution_check CHECK (
                (resolution_outcome IS NULL AND resolution_note IS NULL AND resolved_by IS NULL AND resolved_at IS NULL)
                OR (resolution_outcome IS NOT NULL AND resolution_note IS NOT NULL AND resolved_by IS NOT NULL AND resolved_at IS NOT NULL)),
            CONSTRAINT disputes_refund_check CHECK (
                (resolution_outcome = 'partial_refund') = (resolution_refund_amount IS NOT NULL AND resolution_refund_currency IS NOT NULL))
        )
        """,
        "CREATE UNIQUE INDEX open_dispute ON disputes (tenant_id, job_id) WHERE status <> 'resolved'",
        "CREATE INDEX disputes_created_idx ON disputes (tenant_id, created_at DESC, id DESC)",
        "CREATE INDEX disputes_opened_by_idx ON disputes (tenant_id, opened_by, created_at DESC, id DESC)",
        "CREATE INDEX disputes_respondent_idx ON disputes (tenant_id, respondent, created_at DESC, id DESC)",
        "CREATE INDEX disputes_job_idx ON disputes (tenant_id, job_id)",
        """
        CREATE TABLE reviews (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            job_id uuid NOT NULL,
            author_id uuid NOT NULL,
            subject_id uuid NOT NULL,
            rating integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
            text text NOT NULL,
            created_at bigint NOT NULL,
            visible_from bigint NOT NULL,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT reviews_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT review_author UNIQUE (tenant_id, job_id, author_id),
            CONSTRAINT reviews_job_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id),
            CONSTRAINT reviews_author_fkey FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id),
            CONSTRAINT reviews_subject_fkey FOREIGN KEY (tenant_id, subject_id) REFERENCES users (tenant_id, id)
        )
        """,
        "CREATE INDEX reviews_subject_created_idx ON reviews (tenant_id, subject_id, created_at DESC, id DESC)",
        """
        CREATE TABLE messages (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            job_id uuid NOT NULL,
            sender_id uuid NOT NULL,
            body text NOT NULL,
            created_at bigint NOT NULL,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT messages_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT messages_job_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id),
            CONSTRAINT messages_sender_fkey FOREIGN KEY (tenant_id, sender_id) REFERENCES users (tenant_id, id)
        )
        """,
        "CREATE INDEX messages_job_created_idx ON messages (tenant_id, job_id, created_at, id)",
        """
        CREATE TABLE outbox_events (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            type text NOT NULL,
            schema_version integer NOT NULL,
            aggregate_id uuid NOT NULL,
            recipients uuid[] NOT NULL,
            payload bytea NOT NULL,
            occurred_at bigint NOT NULL,
            status text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
            attempts integer NOT NULL DEFAULT 0,
            available_at bigint NOT NULL,
            last_error text,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT outbox_events_pkey PRIMARY KEY (tenant_id, id),
            CONSTRAINT outbox_events_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id)
        )
        """,
        "CREATE INDEX outbox_events_occurred_idx ON outbox_events (tenant_id, occurred_at, id)",
        "CREATE INDEX outbox_events_claim_idx ON outbox_events (tenant_id, status, available_at, occurred_at, id)",
        """
        CREATE TABLE event_recipients (
            tenant_id uuid NOT NULL,
            event_id uuid NOT NULL,
            user_id uuid NOT NULL,
            occurred_at bigint NOT NULL,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT event_recipients_pkey PRIMARY KEY (tenant_id, event_id, user_id),
            CONSTRAINT event_recipients_event_fkey FOREIGN KEY (tenant_id, event_id) REFERENCES outbox_events (tenant_id, id)
        )
        """,
        "CREATE INDEX event_recipients_feed_idx ON event_recipients (tenant_id, user_id, occurred_at, event_id)",
    ]

    private static var rowLevelSecurity: [String] {
        var statements = [
            "ALTER TABLE tenants ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE tenants FORCE ROW LEVEL SECURITY",
            // A tenant-scoped transaction sees and writes only its own tenant row; a platform-scope transaction
            // (app.scope = 'platform', set by allTenants and tenant(slug:)) may read every tenant row, never write.
            "CREATE POLICY tenants_select ON tenants FOR SELECT USING (\(tenantIDPredicate) OR \(platformScope))",
            "CREATE POLICY tenants_insert ON tenants FOR INSERT WITH CHECK (\(tenantIDPredicate))",
            "CREATE POLICY tenants_update ON tenants FOR UPDATE USING (\(tenantIDPredicate)) WITH CHECK (\(tenantIDPredicate))",
        ]
        for table in tenantTables {
            statements.append("ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY")
            statements.append("ALTER TABLE \(table) FORCE ROW LEVEL SECURITY")
            statements.append("CREATE POLICY tenant_isolation ON \(table) USING (\(tenantPredicate)) WITH CHECK (\(tenantPredicate))")
        }
        return statements
    }

    private static let grants: [String] = [
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC",
        "GRANT SELECT, INSERT, UPDATE ON tenants, users, contractor_profiles, categories, jobs, bids, escrows, disputes, reviews, outbox_events TO tradeskit_app",
        // Append-only: the ledger, messages and event recipients are never updated or deleted by the app.
        "GRANT SELECT, INSERT ON ledger_entries, messages, event_recipients TO tradeskit_app",
        "GRANT USAGE ON SEQUENCE ledger_entries_seq_seq TO tradeskit_app",
    ]
}
