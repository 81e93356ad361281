import Foundation
import HTTPTypes
import TradesKit

/// Counts for a tenant's admin dashboard, gathered through core's admin listings page by page.
struct TenantStats: Encodable {
    let users: [String: Int]
    let jobs: [String: Int]
    let openDisputes: Int

    static func collect(by admin: Principal, in market: Marketplace) async throws -> TenantStats {
        var users: [String: Int] = [:]
        for role in Role.allCases {
            users[role.rawValue] = try await count { cursor in
                let page = try await market.users.list(by: admin, role: role, page: PageRequest(cursor: cursor, limit: 100))
                return (page.items.count, page.nextCursor)
            }
        }
        var jobs: [String: Int] = [:]
        for status in JobStatus.allCases {
            jobs[status.rawValue] = try await count { cursor in
                let page = try await market.jobs.search(by: admin, JobQuery(statuses: [status], cursor: cursor, limit: 100))
                return (page.items.count, page.nextCursor)
            }
        }
        let openDisputes = try await count { cursor in
            let page = try await market.disputes.list(
                by: admin, statuses: [.awaitingResponse, .underReview], page: PageRequest(cursor: cursor, limit: 100))
            return (page.items.count, page.nextCursor)
        }
        return TenantStats(users: users, jobs: jobs, openDisputes: openDisputes)
    }

    private static func count(_ page: (PageCursor?) async throws -> (Int, PageCursor?)) async throws -> Int {
        var total = 0
        var cursor: PageCursor?
        repeat {
            let (count, next) = try await page(cursor)
            total += count
            cursor = next
        } while cursor != nil
        return total
    }
}
