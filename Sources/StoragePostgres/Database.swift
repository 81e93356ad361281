import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import TradesKit
import _ConnectionPoolModule

/// What every transaction of the storage sets first, transaction-locally (`set_config(…, true)`), so that nothing
/// survives the transaction: safe behind pgbouncer in transaction pooling mode, where the next transaction on the same
/// server connection may belong to another client.
enum TransactionScope: Sendable {
    /// Tenant data: `app.tenant_id` is the handle's tenant; RLS filters every table by it.
    case tenant(TenantID)
    /// Platform reads of the tenants table (`app.scope = 'platform'`); no tenant is set, so every tenant table is empty.
    case platform
}

/// Whether a lease was granted, shared by the lease and its timer.
/// Who settled a lease first: the connection arriving, or the timer giving up. Exactly one wins, so a transaction
/// never runs after its caller was told `unavailable` (which would commit a change the caller believes failed).
private final class LeaseRace: Sendable {
    private enum State { case waiting, leased, timedOut }
    private let state = NIOLockedValueBox(State.waiting)

    /// Whether the connection arrived before the timeout; if so, the timer can no longer win.
    func lease() -> Bool { settle(.leased) }
    /// Whether the timer fired before a connection arrived; if so, the connection must not be used.
    func timeOut() -> Bool { settle(.timedOut) }

    private func settle(_ outcome: State) -> Bool {
        state.withLockedValue { state in
            guard case .waiting = state else { return false }
            state = outcome
            return true
        }
    }
}

/// The connection a transaction leased, so that its deadline can close it.
private final class LeasedConnection: Sendable {
    private let connection = NIOLockedValueBox<PostgresConnection?>(nil)
    func set(_ value: PostgresConnection) { connection.withLockedValue { $0 = value } }
    func close() {
        // Best effort; the future's outcome does not matter, the caller has been answered already.
        if let connection = connection.withLockedValue({ $0 }) { Task { try? await connection.close() } }
    }
}

/// Runs transactions over the pool with the tenant set, the statement timeout applied, transient conflicts retried and
/// errors mapped to ``StorageError`` without SQL or values.
struct Database: Sendable {
    let client: PostgresClient
    let statementTimeout: Duration?
    let transactionDeadline: Duration?
    let leaseTimeout: Duration?
    let maximumRetries: Int
    let logger: Logger

    /// A copy of the logger for postgres-nio, which logs driver details (notices, channel errors) at debug level.
    var driverLogger: Logger {
        var logger = logger
        if logger.logLevel < .info { logger.logLevel = .info }
        return logger
    }

    /// Runs `body` in one transaction with the scope set, retrying serialization failures and deadlocks.
    func transaction<Result: Sendable>(_ scope: TransactionScope, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result)
        async throws -> Result
    {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await attemptTransaction(scope, body)
            } catch {
                let underlying = Self.unwrap(error)
                if underlying is StorageError || underlying is CancellationError { throw underlying }
                if let state = Self.sqlState(of: underlying), state == "40001" || state == "40P01", attempt <= maximumRetries {
                    logger.debug(
                        "Retrying a transaction after a transient conflict",
                        metadata: ["tradeskit.sqlstate": "\(state)", "tradeskit.attempt": "\(attempt)"])
                    // A short jittered pause lets the winner finish before the retry reads again.
                    try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
                    continue
                }
                throw Self.map(underlying)
            }
        }
    }

    private func attemptTransaction<Result: Sendable>(
        _ scope: TransactionScope, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        guard let transactionDeadline else { return try await leaseAndRun(scope, body, leased: nil) }
        // A client-side deadline. postgres-nio 1.33.2 can leave a query waiting forever when the server dies
        // mid-transaction, even after the connection is closed (seen after a SIGKILL of the postmaster). So at the deadline
        // the caller is answered `unavailable` at once, the connection is closed, and the stuck task is abandoned.
        let current = LeasedConnection()
        return try await Deadline.run(
            after: transactionDeadline,
            onTimeout: {
                current.close()
                return StorageError(.unavailable, message: "The transaction did not finish within \(transactionDeadline); its connection was closed")
            },
            { try await leaseAndRun(scope, body, leased: current) })
    }

    private func leaseAndRun<Result: Sendable>(
        _ scope: TransactionScope, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result, leased: LeasedConnection?
    ) async throws -> Result {
        let logger = driverLogger
        return try await withLeaseTimeout { connection in
            leased?.set(connection)
            return try await Self.transaction(on: connection, logger: logger) { connection in
                let timeout =
                    statementTimeout.map { "\(max(1, $0.components.seconds * 1_000 + $0.components.attoseconds / 1_000_000_000_000_000))ms" } ?? "0"
                switch scope {
                // Both settings in every scope, transaction-local: whatever a session-level SET on a pooled connection
                // (pgbouncer in transaction mode shares them between clients) left behind is overridden.
                case .tenant(let tenant):
                    try await connection.query(
                        """
                        SELECT set_config('app.tenant_id', \(tenant.uuidString), true), set_config('app.scope', '', true),
                            set_config('statement_timeout', \(timeout), true)
                        """, logger: logger)
                case .platform:
                    try await connection.query(
                        """
                        SELECT set_config('app.scope', 'platform', true), set_config('app.tenant_id', '', true),
                            set_config('statement_timeout', \(timeout), true)
                        """, logger: logger)
                }
                return try await body(connection)
            }
        }
    }

    /// Leases a connection for `body`, failing as `unavailable` when none is leased within ``leaseTimeout``.
    ///
    /// Without it a lease waits for the pool's circuit breaker, about a minute, when the server is down. The timer only
    /// bounds the wait for a connection: once `body` runs, the transaction deadline is what limits it.
    private func withLeaseTimeout<Result: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        guard let leaseTimeout else { return try await client.withConnection(body) }
        let race = LeaseRace()
        let timedOut = StorageError(.unavailable, message: "No database connection could be leased within \(leaseTimeout)")
        return try await withoutActuallyEscaping(body) { body in
            // The closure runs in a child task of the group below, which does not outlive this call.
            return try await withThrowingTaskGroup(of: Result?.self, returning: Result.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        // Too late: the caller has its answer, so nothing may run (the connection goes back unused).
                        guard race.lease() else { throw timedOut }
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: leaseTimeout)
                    guard race.timeOut() else { return nil }
                    throw timedOut
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let result = next { return result }
                }
                throw CancellationError()
            }
        }
    }

    /// BEGIN, `body`, COMMIT; ROLLBACK when `body` fails, unless the connection itself is gone.
    ///
    /// Always READ COMMITTED, whatever the server's or the role's `default_transaction_isolation`: the change writer's
    /// guarantees (a row locked by another writer is read again as committed once the lock is released; a check after a
    /// lock wait sees what the lock holder committed) are argued for that level. Under REPEATABLE READ the snapshot would
    /// be taken before those lock waits.
    ///
    /// Not postgres-nio's `withTransaction`: in 1.33.2 its ROLLBACK after a lost connection can wait forever (seen when
    /// the server is stopped mid-transaction). A dead connection needs no ROLLBACK: the server aborts the transaction when
    /// the session ends, and the pool discards the connection.
    static func transaction<Result>(
        on connection: PostgresConnection, logger: Logger, isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        try await connection.query("BEGIN ISOLATION LEVEL READ COMMITTED", logger: logger)
        do {
            let result = try await body(connection)
            try await connection.query("COMMIT", logger: logger)
            return result
        } catch {
            if !isConnectionLoss(error), !connection.isClosed {
                // If the rollback fails too, the original error is the one to report; the connection is closed, so that
                // it never goes back to the pool inside a transaction the next caller's COMMIT would end.
                do {
                    _ = try await connection.query("ROLLBACK", logger: logger)
                } catch {
                    try? await connection.close()
                }
            }
            throw error
        }
    }

    static func isConnectionLoss(_ error: any Error) -> Bool {
        guard let psql = error as? PSQLError else { return false }
        switch psql.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed: return true
        default:
            // The server ends the session after FATAL errors such as 57P01 (admin shutdown).
            return psql.serverInfo?[.severity] == "FATAL" || psql.serverInfo?[.severity] == "PANIC"
        }
    }

    /// The error a transaction closure or commit threw, out of postgres-nio's wrapper.
    static func unwrap(_ error: any Error) -> any Error {
        if let transactionError = error as? PostgresTransactionError {
            return transactionError.closureError ?? transactionError.commitError ?? transactionError.beginError ?? transactionError.rollbackError
                ?? error
        }
        return error
    }

    static func sqlState(of error: any Error) -> String? {
        guard let psql = error as? PSQLError, psql.code == .server else { return nil }
        return psql.serverInfo?[.sqlState]
    }

    /// Maps a driver error to a ``StorageError`` built only from codes and constraint names, never SQL or values.
    static func map(_ error: any Error) -> any Error {
        if error is StorageError || error is CancellationError { return error }
        if let decoding = error as? PostgresDecodingError {
            return StorageError(.failure, message: "A stored value could not be decoded (column \(decoding.columnName))")
        }
        if let poolError = error as? ConnectionPoolError {
            if poolError == .requestCancelled { return CancellationError() }
            // The pool gave up creating connections (circuit breaker, after about a minute of failures) or is shut down.
            return StorageError(.unavailable, message: "The database could not be reached (no connection could be leased)")
        }
        guard let psql = error as? PSQLError else {
            return StorageError(.failure, message: "The database operation failed (\(type(of: error)))")
        }
        switch psql.code {
        case .server:
            let state = psql.serverInfo?[.sqlState] ?? "?????"
            switch state {
            case "23505":
                let constraint = uniqueConstraintName(psql.serverInfo?[.constraintName])
                return StorageError(.uniqueViolation, constraint: constraint, message: "A unique constraint was violated (SQLSTATE 23505)")
            case "23503":
                return StorageError(.missingRow, message: "A row the change set refers to does not exist (SQLSTATE 23503)")
            case "40001", "40P01":
                return StorageError(.versionConflict, message: "A concurrent transaction kept conflicting (SQLSTATE \(state))")
            case "57014":
                return StorageError(.failure, message: "The statement was cancelled or timed out (SQLSTATE 57014)")
            case "42501":
                return StorageError(.failure, message: "Permission denied (SQLSTATE 42501)")
            case "53300", "57P01", "57P02", "57P03":
                return StorageError(.unavailable, message: "The database is not accepting work (SQLSTATE \(state))")
            default:
                if state.hasPrefix("08") { return StorageError(.unavailable, message: "The connection failed (SQLSTATE \(state))") }
                return StorageError(.failure, message: "The database reported an error (SQLSTATE \(state))")
            }
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed, .sslUnsupported,
            .failedToAddSSLHandler, .queryCancelled:
            return StorageError(.unavailable, message: "The database could not be reached or the connection was lost (\(psql.code))")
        default:
            return StorageError(.failure, message: "The database driver failed (\(psql.code))")
        }
    }

    /// Our constraint and index names are ``UniqueConstraint`` names; primary keys end in `_pkey`.
    static func uniqueConstraintName(_ name: String?) -> String? {
        guard let name else { return nil }
        if name.hasSuffix("_pkey") { return UniqueConstraint.primaryKey }
        let known = [
            UniqueConstraint.tenantSlug, UniqueConstraint.userEmail, UniqueConstraint.categorySlug, UniqueConstraint.liveBid,
            UniqueConstraint.escrowJob, UniqueConstraint.openDispute, UniqueConstraint.reviewAuthor,
            UniqueConstraint.refreshTokenHash, UniqueConstraint.oneTimeTokenHash, UniqueConstraint.twoFactorUser,
            UniqueConstraint.loginThrottleKey,
        ]
        return known.contains(name) ? name : nil
    }
}

/// A SQL text with numbered parameters, for queries whose filters depend on the request (job search, pages).
struct SQLBuilder {
    private(set) var sql: String
    private(set) var binds = PostgresBindings()

    init(_ sql: String) { self.sql = sql }

    /// Binds `value` and answers its placeholder (`$n`).
    mutating func bind<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value) throws -> String {
        try binds.append(value)
        return "$\(binds.count)"
    }

    /// Binds `value`, which may be `nil`, and answers its placeholder.
    mutating func bind<Value: PostgresThrowingDynamicTypeEncodable>(_ value: Value?) throws -> String {
        try binds.append(value)
        return "$\(binds.count)"
    }

    mutating func append(_ text: String) { sql += text }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}
