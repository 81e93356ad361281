/// A storage that can tell whether its schema is behind the code, so a server can report itself not ready (`/ready`)
/// until the migrations have run.
public protocol MigrationStatusReporting: Sendable {
    /// Whether migrations this build knows are not applied yet.
    func hasPendingMigrations() async throws -> Bool
}
