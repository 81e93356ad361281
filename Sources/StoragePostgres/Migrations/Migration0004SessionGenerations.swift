/// The generation of a user's sessions (``TradesKit/User/sessionGeneration``): access tokens name it, and moving it on ends
/// them. The app role's table privileges on `users` cover the new column.
///
/// Frozen: this text is checksummed once applied. Change the schema with a new migration.
enum Migration0004SessionGenerations {
    static let migration = Migration(
        version: 4, name: "session_generations",
        statements: [
            "ALTER TABLE users ADD COLUMN session_generation bigint NOT NULL DEFAULT 0 CHECK (session_generation >= 0)"
        ])
}
