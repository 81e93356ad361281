/// One versioned schema change: an ordered list of SQL statements applied in one transaction by the owner role.
///
/// Each statement is sent on its own (the extended protocol takes one statement at a time). The checksum recorded in
/// `tradeskit_migrations` is the SHA-256 of ``sql`` (the statements joined by `;\n`), computed by PostgreSQL, so an
/// applied migration that was edited afterwards is detected and refused.
struct Migration: Sendable {
    /// Strictly increasing, starting at 1.
    let version: Int
    /// A short name for the migrations table and error messages.
    let name: String
    /// The statements, in order.
    let statements: [String]

    /// The text whose checksum is recorded.
    var sql: String { statements.joined(separator: ";\n") }

    /// Every migration, in order. Append new ones; never edit an applied one (add a new migration instead).
    ///
    /// A migration that changes rows, not only the schema, must lift row-level security for its own transaction: the
    /// owner runs migrations, `FORCE ROW LEVEL SECURITY` holds the owner too, and the migrator sets no tenant, so an
    /// `UPDATE` of a tenant table would match no row and still be recorded as applied. Wrap it in
    /// `ALTER TABLE … NO FORCE ROW LEVEL SECURITY` and `ALTER TABLE … FORCE ROW LEVEL SECURITY` (both transactional).
    static let all: [Migration] = [
        Migration0001InitialSchema.migration, Migration0002Identity.migration, Migration0003SettlementInstructions.migration,
        Migration0004SessionGenerations.migration, Migration0005IdentityPurge.migration, Migration0006EmailCaseRules.migration,
        Migration0007HeldEscrows.migration, Migration0008SettlementRetries.migration, Migration0009NotificationPreferences.migration,
    ]
}

/// The names the schema shares with the Swift code.
enum SchemaNames {
    /// The group role that holds the application's privileges; login roles for the app are members of it.
    static let appGroupRole = "tradeskit_app"
    /// The migrations bookkeeping table (owner only, not tenant data).
    static let migrationsTable = "tradeskit_migrations"
    /// The function through which the app role reads the applied versions (it has no access to the table).
    static let versionsFunction = "tradeskit_schema_versions"
    /// Tenant tables: every one has `tenant_id`, RLS enabled and forced, and the tenant policy.
    static let tenantTables = [
        "users", "contractor_profiles", "categories", "jobs", "bids", "escrows", "ledger_entries", "disputes", "reviews", "messages",
        "outbox_events", "event_recipients", "refresh_tokens", "one_time_tokens", "two_factor_enrollments", "login_throttles",
    ]
}
