import Foundation
import HTTPTypes
import TradesKit

/// Counts for a tenant's admin dashboard: every role and job status (zero included), the open disputes, and the
/// settlements the processor still owes and those of them failing, counted by the storage in one grouped query per table.
struct TenantStats: Encodable {
    let users: [String: Int]
    let jobs: [String: Int]
    let openDisputes: Int
    let owedSettlements: Int
    let failingSettlements: Int

    init(_ counts: TenantCounts) {
        users = Dictionary(uniqueKeysWithValues: Role.allCases.map { ($0.rawValue, counts.usersByRole[$0] ?? 0) })
        jobs = Dictionary(uniqueKeysWithValues: JobStatus.allCases.map { ($0.rawValue, counts.jobsByStatus[$0] ?? 0) })
        openDisputes = counts.openDisputes
        owedSettlements = counts.owedSettlements
        failingSettlements = counts.failingSettlements
    }
}
