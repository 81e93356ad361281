/// Settlement instructions: where an escrow's money is to go next, committed with the decision that sends it there and
/// cleared when the processor has moved it (``TradesKit/SettlementInstruction``). A partial index finds the owed ones.
///
/// Frozen: this text is checksummed once applied. Change the schema with a new migration.
enum Migration0003SettlementInstructions {
    static let migration = Migration(
        version: 3, name: "settlement_instructions",
        statements: [
            "ALTER TABLE escrows ADD COLUMN instruction text CHECK (instruction ~ '^(capture|void|settle:[0-9]{1,19})$')",
            "CREATE INDEX escrows_pending_idx ON escrows (tenant_id, updated_at, id) WHERE instruction IS NOT NULL",
        ])
}
