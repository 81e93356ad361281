import Foundation
import PostgresNIO

extension PostgresStorage {
    /// Where the database is, who the storage connects as, and how the pool behaves. Its description never shows passwords.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// The server's host name or IP address.
        public var host: String
        /// The server's TCP port.
        public var port: Int
        /// The app role: neither owner nor superuser, subject to row-level security. Every query runs as this role.
        public var username: String
        /// The app role's password.
        public var password: String?
        /// The database name.
        public var database: String
        /// Whether to use TLS; ``TLSMode/disable`` is only the default for loopback hosts.
        public var tls: TLSMode
        /// The largest number of pooled connections.
        public var maximumConnections: Int
        /// The longest a statement may run before the server cancels it, applied per transaction with `SET LOCAL`
        /// semantics (`set_config(…, true)`), so it also holds behind pgbouncer in transaction mode. `nil` for no limit.
        public var statementTimeout: Duration?
        /// A client-side limit on one transaction: past it the connection is closed and the call fails as `unavailable`.
        /// It guards against a server that vanished mid-transaction; keep it well above ``statementTimeout``. `nil` for none.
        public var transactionDeadline: Duration?
        /// How long a transaction waits for a pooled connection before it fails as `unavailable` (a server that is down
        /// or a pool that is exhausted). `nil` waits until the pool's own circuit breaker gives up (about a minute).
        public var leaseTimeout: Duration?
        /// How often a transaction that hit a serialization failure or deadlock is retried before giving up.
        public var maximumRetries: Int
        /// The owner role that ``PostgresStorage/migrate()`` connects as; `nil` when this process never migrates.
        public var migrationCredentials: Credentials?

        /// How the connection is encrypted.
        public enum TLSMode: String, Sendable, Hashable {
            /// Plain TCP (loopback and private test clusters only).
            case disable
            /// TLS when the server offers it.
            case prefer
            /// TLS or no connection.
            case require
        }

        /// A role name and its password.
        public struct Credentials: Sendable, Hashable, CustomStringConvertible {
            /// The role name.
            public var username: String
            /// The password.
            public var password: String?

            /// Creates credentials.
            public init(username: String, password: String?) {
                self.username = username
                self.password = password
            }

            /// The role name; the password redacted.
            public var description: String { "Credentials(\(username), password: \(password == nil ? "none" : "<redacted>"))" }
        }

        /// Creates a configuration; TLS is off for loopback hosts and required otherwise unless `tls` says so.
        public init(
            host: String, port: Int = 5432, username: String, password: String?, database: String, tls: TLSMode? = nil,
            maximumConnections: Int = 8, statementTimeout: Duration? = .seconds(30), transactionDeadline: Duration? = .seconds(120),
            leaseTimeout: Duration? = .seconds(10), maximumRetries: Int = 5, migrationCredentials: Credentials? = nil
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls ?? (Self.isLoopback(host) ? .disable : .require)
            self.maximumConnections = maximumConnections
            self.statementTimeout = statementTimeout
            self.transactionDeadline = transactionDeadline
            self.leaseTimeout = leaseTimeout
            self.maximumRetries = maximumRetries
            self.migrationCredentials = migrationCredentials
        }

        /// Parses `postgres://user:password@host:port/database?sslmode=disable|prefer|require` (also `postgresql://`).
        ///
        /// - Throws: ``PostgresConfigurationError`` when the URL is not of that form; the error never repeats the URL.
        public init(url: String) throws(PostgresConfigurationError) {
            guard let components = URLComponents(string: url), let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme) else {
                throw PostgresConfigurationError("The database URL must start with postgres:// or postgresql://")
            }
            guard let host = components.host, !host.isEmpty else { throw PostgresConfigurationError("The database URL has no host") }
            guard let user = components.user, !user.isEmpty else { throw PostgresConfigurationError("The database URL has no user name") }
            let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            guard !database.isEmpty, !database.contains("/") else { throw PostgresConfigurationError("The database URL has no database name") }
            var tls: TLSMode?
            for item in components.queryItems ?? [] where item.name == "sslmode" {
                switch item.value {
                case "disable": tls = .disable
                case "prefer", "allow": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default: throw PostgresConfigurationError("The database URL has an unsupported sslmode")
                }
            }
            // URLComponents' `user`/`password` are percent-decoded.
            self.init(host: host, port: components.port ?? 5432, username: user, password: components.password, database: database, tls: tls)
        }

        /// Where and as whom, with the password redacted.
        public var description: String {
            "PostgresStorage.Configuration(\(username)@\(host):\(port)/\(database), tls: \(tls.rawValue), password: "
                + "\(password == nil ? "none" : "<redacted>"), maximumConnections: \(maximumConnections))"
        }

        static func isLoopback(_ host: String) -> Bool {
            host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
        }

        /// The postgres-nio client configuration for `credentials` (the app role unless given).
        func clientConfiguration(as credentials: Credentials? = nil, maximumConnections: Int? = nil) -> PostgresClient.Configuration {
            let tlsConfiguration: PostgresClient.Configuration.TLS
            switch tls {
            case .disable: tlsConfiguration = .disable
            case .prefer: tlsConfiguration = .prefer(.makeClientConfiguration())
            case .require: tlsConfiguration = .require(.makeClientConfiguration())
            }
            var configuration = PostgresClient.Configuration(
                host: host, port: port, username: credentials?.username ?? username,
                password: credentials.map(\.password) ?? password, database: database,
                tls: tlsConfiguration)
            configuration.options.maximumConnections = max(1, maximumConnections ?? self.maximumConnections)
            // No startup parameters and no named prepared statements: everything session-like is set per transaction,
            // which keeps the storage correct behind pgbouncer in transaction pooling mode.
            return configuration
        }
    }
}

/// A database URL or configuration that cannot be used. Its description never contains the URL or a password.
public struct PostgresConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public let message: String

    init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { "PostgresConfigurationError: \(message)" }
}
