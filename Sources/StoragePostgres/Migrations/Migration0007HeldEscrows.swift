/// The held payments by age, for capturing them before their authorisation lapses
/// (``TradesKit/TenantStorage/heldEscrows(openedBefore:limit:)``).
///
/// Frozen: this text is checksummed once applied. Change the schema with a new migration.
enum Migration0007HeldEscrows {
    static let migration = Migration(
        version: 7, name: "held_escrows",
        statements: [
            "CREATE INDEX escrows_held_idx ON escrows (tenant_id, created_at, id) WHERE status = 'held' AND instruction IS NULL"
        ])
}
