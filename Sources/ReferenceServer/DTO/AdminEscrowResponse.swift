import Foundation
import TradesKit

/// A job's escrow as its tenant's admins see it: ``EscrowResponse`` and, while the processor still owes a movement of
/// the money, what it is, when it is next tried and how many attempts at it failed in a row. No processor references.
struct AdminEscrowResponse: Encodable {
    /// A movement of the money decided and not yet carried out.
    struct Owed: Encodable {
        /// `capture`, `void` or `settle` (refund ``refund``, pay out the rest).
        let action: String
        let refund: Money?
        let dueAt: Date?
        let failures: Int
    }

    let escrow: EscrowResponse
    let owed: Owed?

    init(_ escrow: Escrow) {
        self.escrow = EscrowResponse(escrow)
        owed = escrow.instruction.map { instruction in
            let (action, refund): (String, Money?) =
                switch instruction {
                case .capture: ("capture", nil)
                case .void: ("void", nil)
                case .settle(let refund): ("settle", refund)
                }
            return Owed(action: action, refund: refund, dueAt: escrow.settlementDueAt, failures: escrow.settlementFailures)
        }
    }

    enum CodingKeys: String, CodingKey { case owed }

    /// The escrow's fields, then `owed` when something is.
    func encode(to encoder: any Encoder) throws {
        try escrow.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(owed, forKey: .owed)
    }
}
