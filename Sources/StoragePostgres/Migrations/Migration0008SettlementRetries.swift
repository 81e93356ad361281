/// When an owed settlement is due, and how many attempts at it failed in a row (``TradesKit/Escrow/settlementDueAt``,
/// ``TradesKit/Escrow/settlementFailures``): the instructions owed already are due since they were set, and the index
/// of owed instructions follows the due time. The backfill changes rows, so row-level security is lifted for this
/// transaction only (see ``Migration/all``).
///
/// Frozen: this text is checksummed once applied. Change the schema with a new migration.
enum Migration0008SettlementRetries {
    static let migration = Migration(
        version: 8, name: "settlement_retries",
        statements: [
            "ALTER TABLE escrows ADD COLUMN settlement_due_at bigint",
            "ALTER TABLE escrows ADD COLUMN settlement_failures integer NOT NULL DEFAULT 0 CHECK (settlement_failures >= 0)",
            "ALTER TABLE escrows NO FORCE ROW LEVEL SECURITY",
            "UPDATE escrows SET settlement_due_at = updated_at WHERE instruction IS NOT NULL",
            "ALTER TABLE escrows FORCE ROW LEVEL SECURITY",
            "DROP INDEX escrows_pending_idx",
            "CREATE INDEX escrows_pending_idx ON escrows (tenant_id, settlement_due_at NULLS FIRST, id) WHERE instruction IS NOT NULL",
        ])
}
