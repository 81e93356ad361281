public import TradesKit

/// One named check of the storage conformance suite.
///
/// Each check receives a fresh, migrated, empty storage and creates its own tenants through `insertTenant` change sets.
public struct StorageConformanceCheck: Sendable, CustomStringConvertible {
    /// A stable name, e.g. `unique.liveBid`.
    public let name: String
    /// Runs the check; throws ``ConformanceFailure`` (or the storage's own error) when the storage does not conform.
    public let run: @Sendable (any Storage) async throws -> Void

    /// Creates a check.
    public init(_ name: String, run: @escaping @Sendable (any Storage) async throws -> Void) {
        self.name = name
        self.run = run
    }

    /// The check's name.
    public var description: String { name }
}

/// The checks every ``Storage`` must pass, like fluent-kit's FluentBenchmark.
///
/// Run them as one parameterized test, with a fresh storage per check:
/// ```swift
/// @Test(arguments: StorageConformance.checks)
/// func conforms(_ check: StorageConformanceCheck) async throws {
///     let storage = try await makeFreshStorage()
///     try await storage.migrate()
///     try await check.run(storage)
/// }
/// ```
public enum StorageConformance {
    /// Every check, in a stable order.
    public static let checks: [StorageConformanceCheck] =
        roundTripChecks + versionChecks + constraintChecks + isolationChecks + queryChecks + paginationChecks + outboxChecks
        + identityChecks
}

/// A conformance check found the storage misbehaving.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// What went wrong.
    public let message: String
    /// The suite's source file of the failed expectation.
    public let file: String
    /// The line of the failed expectation.
    public let line: Int

    /// Creates a failure.
    public init(_ message: String, file: String = #fileID, line: Int = #line) {
        self.message = message
        self.file = file
        self.line = line
    }

    /// The message and where it was raised.
    public var description: String { "\(message) (\(file):\(line))" }
}

/// Throws ``ConformanceFailure`` when `condition` is false.
func expect(_ condition: Bool, _ message: @autoclosure () -> String, file: String = #fileID, line: Int = #line) throws(ConformanceFailure) {
    if !condition { throw ConformanceFailure(message(), file: file, line: line) }
}

/// Throws ``ConformanceFailure`` unless `body` throws a ``StorageError`` with `code` (and `constraint`, when given).
func expectStorageError(
    _ code: StorageError.Code, constraint: String? = nil, _ what: String, file: String = #fileID, line: Int = #line,
    _ body: () async throws -> Void
) async throws {
    do {
        try await body()
    } catch let error as StorageError {
        let wanted = "\(code)" + (constraint.map { " on \($0)" } ?? "")
        try expect(
            error.code == code && (constraint == nil || error.constraint == constraint),
            "\(what): expected StorageError(\(wanted)), got \(error)", file: file, line: line)
        return
    }
    throw ConformanceFailure("\(what): expected StorageError(\(code)), but the call succeeded", file: file, line: line)
}
