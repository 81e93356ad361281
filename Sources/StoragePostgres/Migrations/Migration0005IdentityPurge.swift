/// The purge of spent identity records (``TradesKit/TenantStorage/purgeIdentityRecords(tokensExpiredBefore:throttlesIdleSince:)``):
/// the app may now DELETE from `refresh_tokens`, `one_time_tokens` and `login_throttles` (row-level security keeps each
/// DELETE in the current tenant, as every other command), and indexes find the rows without reading all of them.
///
/// Frozen: this text is checksummed once applied. Change the schema with a new migration.
enum Migration0005IdentityPurge {
    static let migration = Migration(
        version: 5, name: "identity_purge",
        statements: [
            "GRANT DELETE ON refresh_tokens, one_time_tokens, login_throttles TO tradeskit_app",
            "CREATE INDEX refresh_tokens_expiry_idx ON refresh_tokens (tenant_id, expires_at)",
            "CREATE INDEX one_time_tokens_expiry_idx ON one_time_tokens (tenant_id, expires_at)",
            "CREATE INDEX login_throttles_last_failure_idx ON login_throttles (tenant_id, last_failure_at)",
        ])
}
