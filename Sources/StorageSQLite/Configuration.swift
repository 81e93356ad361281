extension SQLiteStorage {
    /// Where the database lives.
    public enum Location: Sendable, Hashable {
        /// A file, opened as a `DatabasePool` in WAL mode: concurrent reads, one writer.
        case file(path: String)
        /// A private in-memory database (a `DatabaseQueue`), for tests.
        case inMemory
    }

    /// How the storage opens its database. One documented struct instead of a long initializer (as GRDB does).
    public struct Configuration: Sendable, Hashable {
        /// SQLite's durability level for commits.
        public enum Synchronous: String, Sendable, Hashable {
            /// `PRAGMA synchronous = FULL`: in WAL mode, an acknowledged commit survives power loss. The default,
            /// because a marketplace acknowledges money movements.
            case full = "FULL"
            /// `PRAGMA synchronous = NORMAL`: faster; a commit survives a crash of the process but may be lost on power
            /// loss. The database stays consistent either way.
            case normal = "NORMAL"
        }

        /// The durability level (default `.full`).
        public var synchronous: Synchronous
        /// How long a connection waits for a lock before failing, in seconds (default 5).
        public var busyTimeoutSeconds: Double
        /// How many concurrent readers a file database may use (default 8).
        public var maximumReaderCount: Int
        /// Whether opening the storage applies pending migrations (default `true`).
        public var migrateOnOpen: Bool

        /// Creates a configuration.
        public init(synchronous: Synchronous = .full, busyTimeoutSeconds: Double = 5, maximumReaderCount: Int = 8, migrateOnOpen: Bool = true) {
            self.synchronous = synchronous
            self.busyTimeoutSeconds = busyTimeoutSeconds
            self.maximumReaderCount = maximumReaderCount
            self.migrateOnOpen = migrateOnOpen
        }
    }
}
