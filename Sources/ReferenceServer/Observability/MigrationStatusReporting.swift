import Foundation
import HTTPTypes
public import StorageSQLite

/// A storage that can tell whether its schema is behind the code. `/ready` reports not ready while it is.
public protocol MigrationStatusReporting: Sendable {
    /// Whether migrations are waiting to be applied.
    func hasPendingMigrations() async throws -> Bool
}

extension SQLiteStorage: MigrationStatusReporting {}
