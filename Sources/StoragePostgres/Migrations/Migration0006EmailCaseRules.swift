/// E-mail addresses fold case by one rule whatever the database's locale: `lower(email COLLATE "C")`, which lowers
/// ASCII letters only, exactly as core's ``TradesKit/EmailAddress/normalized`` does for the printable ASCII an address
/// may hold. Under the database's default collation a Turkish locale lowered `I` to a dotless `ı`, so an address with a
/// capital I was never found by its normalized form, and two addresses differing only in that letter's case were both
/// accepted. A database holding such a pair stops this migration, unapplied, with a unique violation naming
/// `user_email`: merge or rename one of the accounts, then migrate again.
///
/// Frozen: this text is checksummed once applied. Change the schema with a new migration.
enum Migration0006EmailCaseRules {
    static let migration = Migration(
        version: 6, name: "email_case_rules",
        statements: [
            "DROP INDEX user_email",
            #"CREATE UNIQUE INDEX user_email ON users (tenant_id, lower(email COLLATE "C"))"#,
        ])
}
