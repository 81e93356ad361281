import Foundation
import Logging
import PostgresNIO
@testable import StoragePostgres
import TestSupport
import TradesKit

#if canImport(Glibc)
    import Glibc
#endif

/// One PostgreSQL for the whole test process, migrated, with an owner role and an app role.
///
/// - `TRADESKIT_POSTGRES_URL` set: that URL is the owner (it runs the migrations and must be allowed to create roles);
///   the harness creates or updates the app role `tradeskit_app_test` (member of `tradeskit_app`) with a fresh password.
/// - Otherwise: a throwaway cluster. `initdb` and `pg_ctl` refuse to run as root, so they run as the `postgres` user
///   (`runuser -u postgres`) in a temporary directory owned by it, listening on 127.0.0.1 only, on a free port, with
///   `fsync=on` and SCRAM passwords. It is stopped (`pg_ctl stop -m immediate`) and its directory removed by an `atexit`
///   handler when the test process exits; no `deinit` is involved, since the harness lives as long as the process.
///
/// It starts once (a `static let` task) and every test shares it; tests isolate themselves with fresh tenants (random
/// slugs and ids), never a fresh database. A test that cannot get the database fails with the reason: nothing skips.
enum PostgresHarness {
    struct Environment: Sendable {
        /// The storage configuration: app role, with owner credentials for migrations.
        let storage: PostgresStorage.Configuration
        /// The owner role, as a configuration to connect with.
        let owner: PostgresStorage.Configuration
        /// The shared, running storage.
        let shared: PostgresStorage
        /// A role that may create databases: the cluster's superuser, or the `TRADESKIT_POSTGRES_URL` owner.
        let admin: PostgresStorage.Configuration
    }

    struct HarnessError: Error, CustomStringConvertible {
        let description: String
    }

    static let logger: Logger = {
        var logger = Logger(label: "tradeskit.tests.postgres")
        logger.logLevel = .warning
        return logger
    }()

    private static let started = Task<Environment, any Error> { try await start() }

    /// The shared environment, starting it on first use.
    static func environment() async throws -> Environment {
        try await started.value
    }

    /// The shared storage.
    static func storage() async throws -> PostgresStorage {
        try await environment().shared
    }

    /// A new storage over the same database with its own pool, running for the duration of `body`.
    static func withStorage<R: Sendable>(maximumConnections: Int, _ body: @Sendable (PostgresStorage) async throws -> R) async throws -> R {
        var configuration = try await environment().storage
        configuration.maximumConnections = maximumConnections
        let storage = PostgresStorage(configuration: configuration, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self, returning: R.self) { group in
            group.addTask { await storage.run() }
            defer { group.cancelAll() }
            try await Task.sleep(for: .milliseconds(50))
            return try await body(storage)
        }
    }

    /// Runs `body` while `storage`'s pool runs.
    static func running<R: Sendable>(_ storage: PostgresStorage, _ body: @Sendable (PostgresStorage) async throws -> R) async throws -> R {
        try await withThrowingTaskGroup(of: Void.self, returning: R.self) { group in
            group.addTask { await storage.run() }
            defer { group.cancelAll() }
            return try await body(storage)
        }
    }

    /// Runs `body` with a storage over a new, empty, migrated database of its own (the conformance checks need one
    /// each), connected directly or through pgbouncer in transaction pooling mode; with `icuLocale`, the database's
    /// default collation is that ICU locale (its case rules are `lower()`'s and `ILIKE`'s).
    static func withFreshDatabase<R: Sendable>(
        throughBouncer: Bool = false, icuLocale: String? = nil, _ body: @Sendable (PostgresStorage) async throws -> R
    ) async throws -> R {
        let environment = try await environment()
        let name = "tk_" + randomSecret().prefix(20)
        if let icuLocale {
            try await PostgresStorage.withTemporaryClient(
                environment.admin.clientConfiguration(as: nil, maximumConnections: 1), logger: logger
            ) { client in
                _ = try await client.query(
                    PostgresQuery(
                        unsafeSQL: """
                            CREATE DATABASE \(name) OWNER \(environment.owner.username) TEMPLATE template0 \
                            LOCALE 'C.UTF-8' LOCALE_PROVIDER icu ICU_LOCALE '\(icuLocale)'
                            """)
                ).collect()
            }
        }
        try await PostgresProvisioning.createDatabase(as: environment.admin, name: name, owner: environment.owner.username, logger: logger)
        var configuration = environment.storage
        configuration.database = name
        configuration.maximumConnections = 4
        if throughBouncer {
            let bouncer = try await self.bouncer.value
            configuration.host = "127.0.0.1"
            configuration.port = bouncer
        }
        let storage = PostgresStorage(configuration: configuration, logger: logger)
        let result = try await withThrowingTaskGroup(of: Void.self, returning: R.self) { group in
            group.addTask { await storage.run() }
            defer { group.cancelAll() }
            try await Task.sleep(for: .milliseconds(20))
            try await storage.migrate()
            return try await body(storage)
        }
        // The database is left for the cluster's removal at exit; with TRADESKIT_POSTGRES_URL, drop it now.
        if ProcessInfo.processInfo.environment["TRADESKIT_POSTGRES_URL"] != nil {
            try? await PostgresProvisioning.dropDatabase(as: environment.admin, name: name, logger: logger)
        }
        return result
    }

    /// pgbouncer in transaction pooling mode in front of the test server, started once; answers its port.
    static let bouncer = Task<Int, any Error> { try await startBouncer() }

    private static func startBouncer() async throws -> Int {
        let environment = try await environment()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-pgbouncer-\(randomSecret())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var users = ""
        for configuration in [environment.storage, environment.owner] {
            users += "\"\(configuration.username)\" \"\(configuration.password ?? "")\"\n"
        }
        try users.write(toFile: directory + "/userlist.txt", atomically: true, encoding: .utf8)
        // pgbouncer reports a port it cannot bind only in its log, after it has daemonised: a port taken between
        // `freePort()` and the bind leaves no running pgbouncer, so that is tried again on another port.
        guard let pgbouncer = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw HarnessError(description: "pgbouncer is not installed (apt-get install pgbouncer)")
        }
        _ = registerCleanup
        clusterLock.withLock { bouncerDirectories.append(directory) }
        for _ in 0..<5 {
            let port = try freePort()
            let ini = """
                [databases]
                * = host=\(environment.storage.host) port=\(environment.storage.port)
                [pgbouncer]
                listen_addr = 127.0.0.1
                listen_port = \(port)
                unix_socket_dir =
                auth_type = scram-sha-256
                auth_file = \(directory)/userlist.txt
                pool_mode = transaction
                max_client_conn = 500
                default_pool_size = 4
                min_pool_size = 0
                server_idle_timeout = 1
                server_lifetime = 30
                ignore_startup_parameters = extra_float_digits,options
                logfile = \(directory)/pgbouncer.log
                pidfile = \(directory)/pgbouncer.pid
                """
            try ini.write(toFile: directory + "/pgbouncer.ini", atomically: true, encoding: .utf8)
            try run("/bin/chown", ["-R", "postgres:postgres", directory])
            try run("/bin/chmod", ["700", directory])
            // pgbouncer refuses to run as root, like initdb.
            try run("/usr/sbin/runuser", ["-u", "postgres", "--", pgbouncer, "-d", directory + "/pgbouncer.ini"])
            for _ in 0..<50 where !isListening(port) { try await Task.sleep(for: .milliseconds(100)) }
            if isListening(port) { return port }
        }
        let log = (try? String(contentsOfFile: directory + "/pgbouncer.log", encoding: .utf8)) ?? ""
        throw HarnessError(description: "pgbouncer did not start:\n\(log.suffix(2_000))")
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    private static func isListening(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    enum Role { case app, owner }

    /// A raw client (one connection) as the app or owner role, for attacking the schema directly.
    static func withRawClient<R: Sendable>(_ role: Role, _ body: @Sendable (PostgresClient) async throws -> R) async throws -> R {
        let environment = try await environment()
        let configuration = role == .app ? environment.storage : environment.owner
        return try await PostgresStorage.withTemporaryClient(configuration.clientConfiguration(as: nil, maximumConnections: 1), logger: logger, body)
    }

    // MARK: Starting

    private static func start() async throws -> Environment {
        let appPassword = randomSecret()
        if let url = ProcessInfo.processInfo.environment["TRADESKIT_POSTGRES_URL"], !url.isEmpty {
            let owner = try PostgresStorage.Configuration(url: url)
            let app = PostgresStorage.Configuration.Credentials(username: "tradeskit_app_test", password: appPassword)
            try await PostgresProvisioning.createRoles(as: owner, app: app, owner: nil, logger: logger)
            try await PostgresProvisioning.createDatabase(as: owner, name: owner.database, owner: owner.username, logger: logger)
            return try await finish(
                host: owner.host, port: owner.port, database: owner.database, tls: owner.tls, app: app,
                owner: .init(username: owner.username, password: owner.password), admin: owner)
        }
        let cluster = try await startCluster()
        let superuser = cluster.superuser
        let app = PostgresStorage.Configuration.Credentials(username: "tradeskit_app_login", password: appPassword)
        let owner = PostgresStorage.Configuration.Credentials(username: "tradeskit_owner", password: randomSecret())
        try await PostgresProvisioning.createRoles(as: superuser, app: app, owner: owner, logger: logger)
        try await PostgresProvisioning.createDatabase(as: superuser, name: "tradeskit_test", owner: owner.username, logger: logger)
        return try await finish(
            host: "127.0.0.1", port: cluster.port, database: "tradeskit_test", tls: .disable, app: app, owner: owner,
            admin: superuser)
    }

    private static func finish(
        host: String, port: Int, database: String, tls: PostgresStorage.Configuration.TLSMode,
        app: PostgresStorage.Configuration.Credentials, owner: PostgresStorage.Configuration.Credentials,
        admin: PostgresStorage.Configuration
    ) async throws -> Environment {
        let storageConfiguration = PostgresStorage.Configuration(
            host: host, port: port, username: app.username, password: app.password,
            database: database, tls: tls, maximumConnections: 8, migrationCredentials: owner)
        let ownerConfiguration = PostgresStorage.Configuration(
            host: host, port: port, username: owner.username, password: owner.password,
            database: database, tls: tls)
        let shared = PostgresStorage(configuration: storageConfiguration, logger: logger)
        // The shared pool runs for the rest of the process, in a task the harness owns.
        Task.detached { await shared.run() }
        // Let the pool start before the first lease (postgres-nio warns about a lease before run()).
        try await Task.sleep(for: .milliseconds(100))
        try await shared.migrate()
        return Environment(storage: storageConfiguration, owner: ownerConfiguration, shared: shared, admin: admin)
    }

    static func randomSecret() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    // MARK: Throwaway cluster

    struct Cluster: Sendable {
        let directory: String
        let port: Int
        let password: String

        var superuser: PostgresStorage.Configuration {
            PostgresStorage.Configuration(host: "127.0.0.1", port: port, username: "postgres", password: password, database: "postgres")
        }
    }

    /// The clusters the `atexit` handler stops and removes. Only appended to, under the lock.
    nonisolated(unsafe) private static var clusterDirectories: [String] = []
    /// The pgbouncer directories the `atexit` handler stops and removes. Only appended to, under the lock.
    nonisolated(unsafe) private static var bouncerDirectories: [String] = []
    private static let clusterLock = NSLock()
    private static let registerCleanup: Void = {
        atexit {
            PostgresHarness.clusterLock.lock()
            let directories = PostgresHarness.clusterDirectories
            let bouncers = PostgresHarness.bouncerDirectories
            PostgresHarness.clusterLock.unlock()
            for directory in bouncers {
                let quoted = PostgresHarness.shellQuoted(directory)
                _ = system("kill $(cat \(quoted)/pgbouncer.pid) >/dev/null 2>&1; rm -rf \(quoted)")
            }
            for directory in directories {
                let quoted = PostgresHarness.shellQuoted(directory)
                _ = system("runuser -u postgres -- pg_ctl -D \(quoted)/data -m immediate -w stop >/dev/null 2>&1; rm -rf \(quoted)")
            }
        }
    }()

    /// Stops a cluster at once (`pg_ctl stop -m immediate`: no shutdown checkpoint; the restart runs crash recovery).
    static func crash(_ cluster: Cluster) throws {
        try run("/usr/sbin/runuser", ["-u", "postgres", "--", "pg_ctl", "-D", cluster.directory + "/data", "-m", "immediate", "-w", "stop"])
    }

    /// Kills the postmaster with SIGKILL, as a crash or the OOM killer would: no shutdown of any kind. Its backends notice
    /// the postmaster's death and exit; ``restart(_:)`` waits for them (the shared memory block stays in use until then).
    static func killPostmaster(_ cluster: Cluster) throws {
        let pidFile = try String(contentsOfFile: cluster.directory + "/data/postmaster.pid", encoding: .utf8)
        guard let line = pidFile.split(separator: "\n").first, let pid = pid_t(line.trimmingCharacters(in: .whitespaces)) else {
            throw HarnessError(description: "postmaster.pid has no pid")
        }
        guard kill(pid, SIGKILL) == 0 else { throw HarnessError(description: "kill(SIGKILL) failed: errno \(errno)") }
    }

    /// Starts a stopped cluster again on its port, off Swift's cooperative pool (see `onOwnThread`).
    static func restart(_ cluster: Cluster) async throws { try await onOwnThread { try restartBlocking(cluster) } }

    private static func restartBlocking(_ cluster: Cluster) throws {
        // After a SIGKILL the old backends may take a moment to exit; until then the server refuses to start.
        var lastError: (any Error)?
        for _ in 0..<20 {
            do {
                try start(cluster)
                return
            } catch {
                lastError = error
                usleep(250_000)
            }
        }
        throw lastError ?? HarnessError(description: "the cluster did not restart")
    }

    private static func start(_ cluster: Cluster) throws {
        try run(
            "/usr/sbin/runuser",
            [
                "-u", "postgres", "--", "pg_ctl", "-D", cluster.directory + "/data", "-l", cluster.directory + "/server.log",
                "-w", "-t", "120", "-o", serverOptions(port: cluster.port, directory: cluster.directory), "start",
            ])
    }

    private static func serverOptions(port: Int, directory: String) -> String {
        "-c listen_addresses=127.0.0.1 -p \(port) -c unix_socket_directories=\(directory) -c fsync=on -c max_connections=100"
    }

    /// Starts a throwaway cluster of its own (always local, even with `TRADESKIT_POSTGRES_URL`: a test that kills the
    /// server must not kill a shared one).
    /// ``startClusterBlocking()`` off Swift's cooperative pool (see `onOwnThread`).
    static func startCluster() async throws -> Cluster { try await onOwnThread { try startClusterBlocking() } }

    static func startClusterBlocking() throws -> Cluster {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-pg-\(randomSecret())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let password = randomSecret()
        let passwordFile = directory + "/pwfile"
        try password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        try run("/bin/chown", ["-R", "postgres:postgres", directory])
        try run("/bin/chmod", ["700", directory])

        _ = registerCleanup
        clusterLock.lock()
        clusterDirectories.append(directory)
        clusterLock.unlock()

        try run(
            "/usr/sbin/runuser",
            [
                "-u", "postgres", "--", "initdb", "-D", directory + "/data", "-U", "postgres", "--pwfile=" + passwordFile,
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
            ])
        var lastError = ""
        for _ in 0..<5 {
            let port = try freePort()
            do {
                let cluster = Cluster(directory: directory, port: port, password: password)
                try start(cluster)
                return cluster
            } catch {
                // Another process may have taken the port between the probe and the start.
                lastError = "\(error)"
                let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
                lastError += "\n" + String(log.suffix(2_000))
            }
        }
        throw HarnessError(description: "The throwaway PostgreSQL cluster did not start: \(lastError)")
    }

    /// Runs a command through `system()`, output to a file. (Foundation's `Process.waitUntilExit` can miss the exit of
    /// `runuser` when `pg_ctl` leaves a daemon behind, and hang.)
    @discardableResult
    private static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-pg-cmd-\(randomSecret()).log").path
        defer { try? FileManager.default.removeItem(atPath: outputFile) }
        let command = ([executable] + arguments).map(shellQuoted).joined(separator: " ") + " > \(shellQuoted(outputFile)) 2>&1 < /dev/null"
        let status = system(command)
        let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw HarnessError(
                description: "\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.first ?? "") failed "
                    + "(status \(status)): \(text.suffix(2_000))")
        }
        return text
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw HarnessError(description: "bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw HarnessError(description: "getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension PostgresConnection {
    /// A query with the harness's logger (postgres-nio's async `query` needs one).
    @discardableResult
    func run(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        try await self.query(query, logger: PostgresHarness.logger)
    }
}
