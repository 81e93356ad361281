import Foundation
import TradesKit

/// The tenant-scoped handle of a ``MemoryStorage``.
struct MemoryTenantStorage: TenantStorage {
    let storage: MemoryStorage
    let tenantID: TenantID

    private var data: TenantData { storage.state.current.data[tenantID] ?? TenantData() }

    func commit(_ changes: ChangeSet) async throws {
        if let hook = storage.takeCommitHook() { await hook() }
        try storage.state.withLock { state in
            var copy = state
            var applier = ChangeApplier(state: copy, tenantID: tenantID)
            for change in changes.changes { try applier.apply(change) }
            copy = applier.state
            state = copy
        }
    }

    func tenantRecord() async throws -> Tenant? { storage.state.current.tenants[tenantID] }

    // MARK: Users

    func user(_ id: UserID) async throws -> User? { data.users[id] }

    func user(email: EmailAddress) async throws -> User? { data.users.values.first { $0.email.normalized == email.normalized } }

    func users(role: Role?, page: PageRequest) async throws -> Page<User> {
        let users = data.users.values.filter { role == nil || $0.role == role }
        return .keyset(users, descending: false, cursor: page.cursor, limit: page.limit) { ($0.createdAt, $0.id.rawValue) }
    }

    func contractorProfile(_ userID: UserID) async throws -> ContractorProfile? { data.profiles[userID] }

    func counts() async throws -> TenantCounts {
        let data = data
        return TenantCounts(
            usersByRole: data.users.values.reduce(into: [:]) { $0[$1.role, default: 0] += 1 },
            jobsByStatus: data.jobs.values.reduce(into: [:]) { $0[$1.status, default: 0] += 1 },
            disputesByStatus: data.disputes.values.reduce(into: [:]) { $0[$1.status, default: 0] += 1 },
            owedSettlements: data.escrows.values.count { $0.instruction != nil },
            failingSettlements: data.escrows.values.count { $0.instruction != nil && $0.settlementFailures > 0 })
    }

    func ratingSummary(for userID: UserID, at now: Date) async throws -> RatingSummary {
        let visible = data.reviews.values.filter { $0.subjectID == userID && $0.isVisible(at: now) }
        return RatingSummary(count: visible.count, ratingSum: visible.reduce(0) { $0 + $1.rating })
    }

    // MARK: Catalogue

    func categories() async throws -> [TradeCategory] {
        data.categories.values.sorted { ($0.name, $0.id.uuidString) < ($1.name, $1.id.uuidString) }
    }

    func category(_ id: CategoryID) async throws -> TradeCategory? { data.categories[id] }

    // MARK: Jobs and bids

    func job(_ id: JobID) async throws -> Job? { data.jobs[id] }

    func jobs(_ query: JobQuery) async throws -> Page<Job> {
        let needle = query.text?.lowercased()
        let jobs = data.jobs.values.filter { job in
            if let statuses = query.statuses, !statuses.contains(job.status) { return false }
            if let category = query.categoryID, job.categoryID != category { return false }
            if let needle, !needle.isEmpty, !job.title.lowercased().contains(needle), !job.description.lowercased().contains(needle) {
                return false
            }
            if let near = query.near, !near.contains(job.location) { return false }
            if let owner = query.ownerID, job.ownerID != owner { return false }
            if let contractor = query.contractorID, job.contractorID != contractor { return false }
            if let viewer = query.visibleTo, job.status != .open, job.ownerID != viewer, job.contractorID != viewer { return false }
            return true
        }
        return .keyset(jobs, descending: true, cursor: query.cursor, limit: query.limit) { ($0.createdAt, $0.id.rawValue) }
    }

    func jobsCompleted(before cutoff: Date, page: PageRequest) async throws -> Page<Job> {
        let cutoffKey = cutoff.millisecondsSince1970
        let due = data.jobs.values.filter { job in
            guard job.status == .completed, let completedAt = job.completedAt else { return false }
            return completedAt.millisecondsSince1970 <= cutoffKey
        }
        return .keyset(Array(due), descending: false, cursor: page.cursor, limit: page.limit) {
            ($0.completedAt ?? $0.updatedAt, $0.id.rawValue)
        }
    }

    func bid(_ id: BidID, viewer: BidViewer) async throws -> Bid? {
        let data = self.data
        guard let bid = data.bids[id], let job = data.jobs[bid.jobID], viewer.canSee(bid, jobOwner: job.ownerID) else { return nil }
        return bid
    }

    func bids(job jobID: JobID, viewer: BidViewer) async throws -> [Bid] {
        let data = self.data
        guard let job = data.jobs[jobID] else { return [] }
        return data.bids.values
            .filter { $0.jobID == jobID && viewer.canSee($0, jobOwner: job.ownerID) }
            .sorted { SortKey($0.createdAt, $0.id.rawValue) < SortKey($1.createdAt, $1.id.rawValue) }
    }

    func bids(contractor: UserID, page: PageRequest) async throws -> Page<Bid> {
        let bids = data.bids.values.filter { $0.contractorID == contractor }
        return .keyset(bids, descending: true, cursor: page.cursor, limit: page.limit) { ($0.createdAt, $0.id.rawValue) }
    }

    // MARK: Money

    func escrow(job: JobID) async throws -> Escrow? { data.escrows.values.first { $0.jobID == job } }

    func pendingSettlements(dueBy now: Date, limit: Int) async throws -> [Escrow] {
        // Instants compare as stored, in whole milliseconds; no due time sorts first.
        func due(_ escrow: Escrow) -> Int64 { escrow.settlementDueAt?.millisecondsSince1970 ?? .min }
        let pending = data.escrows.values.filter { $0.instruction != nil && due($0) <= now.millisecondsSince1970 }
        return Array(pending.sorted { (due($0), $0.id.rawValue.uuidString) < (due($1), $1.id.rawValue.uuidString) }.prefix(max(0, limit)))
    }

    func heldEscrows(openedBefore cutoff: Date, limit: Int) async throws -> [Escrow] {
        let cutoffKey = cutoff.millisecondsSince1970
        let held = data.escrows.values.filter {
            $0.status == .held && $0.instruction == nil && $0.createdAt.millisecondsSince1970 <= cutoffKey
        }
        return Array(held.sorted { ($0.createdAt, $0.id.rawValue.uuidString) < ($1.createdAt, $1.id.rawValue.uuidString) }.prefix(max(0, limit)))
    }

    func ledgerEntries(job: JobID?) async throws -> [LedgerEntry] {
        // Stable sort: entries posted at the same instant keep their insertion order.
        data.ledger.filter { job == nil || $0.jobID == job }.sorted { $0.postedAt.millisecondsSince1970 < $1.postedAt.millisecondsSince1970 }
    }

    func unbalancedLedgerTransactions() async throws -> [LedgerTransactionID] { Ledger.unbalancedTransactions(in: data.ledger) }

    // MARK: Disputes, reviews, messages

    func dispute(_ id: DisputeID) async throws -> Dispute? { data.disputes[id] }

    func disputes(participant: UserID?, statuses: Set<DisputeStatus>?, page: PageRequest) async throws -> Page<Dispute> {
        let disputes = data.disputes.values.filter { dispute in
            (participant == nil || dispute.openedBy == participant || dispute.respondent == participant)
                && (statuses == nil || statuses?.contains(dispute.status) == true)
        }
        return .keyset(disputes, descending: true, cursor: page.cursor, limit: page.limit) { ($0.createdAt, $0.id.rawValue) }
    }

    func openDispute(job: JobID) async throws -> Dispute? { data.disputes.values.first { $0.jobID == job && $0.status != .resolved } }

    func reviews(job: JobID) async throws -> [Review] {
        data.reviews.values.filter { $0.jobID == job }.sorted { SortKey($0.createdAt, $0.id.rawValue) < SortKey($1.createdAt, $1.id.rawValue) }
    }

    func reviews(subject: UserID, visibleAt now: Date, page: PageRequest) async throws -> Page<Review> {
        let reviews = data.reviews.values.filter { $0.subjectID == subject && $0.isVisible(at: now) }
        return .keyset(reviews, descending: true, cursor: page.cursor, limit: page.limit) { ($0.createdAt, $0.id.rawValue) }
    }

    func messages(job: JobID, page: PageRequest) async throws -> Page<Message> {
        let messages = data.messages.values.filter { $0.jobID == job }
        return .keyset(messages, descending: false, cursor: page.cursor, limit: page.limit) { ($0.createdAt, $0.id.rawValue) }
    }

    // MARK: Identity

    func refreshToken(hash: String) async throws -> RefreshToken? { data.refreshTokens.values.first { $0.tokenHash == hash } }

    func oneTimeToken(hash: String, purpose: OneTimeTokenPurpose) async throws -> OneTimeToken? {
        data.oneTimeTokens.values.first { $0.tokenHash == hash && $0.purpose == purpose }
    }

    func twoFactor(user: UserID) async throws -> TwoFactorEnrollment? { data.twoFactor[user] }

    func loginThrottle(key: AccountKey) async throws -> LoginThrottle? { data.loginThrottles[key] }

    func purgeIdentityRecords(tokensExpiredBefore: Date, throttlesIdleSince: Date) async throws -> Int {
        let tenantID = self.tenantID
        // Whole milliseconds, as the other storages compare them.
        let expired = tokensExpiredBefore.millisecondsSince1970
        let idle = throttlesIdleSince.millisecondsSince1970
        func before(_ date: Date?, _ limit: Int64) -> Bool { (date?.millisecondsSince1970 ?? 0) < limit }
        return storage.state.withLock { state in
            guard var data = state.data[tenantID] else { return 0 }
            let count = data.refreshTokens.count + data.oneTimeTokens.count + data.loginThrottles.count
            data.refreshTokens = data.refreshTokens.filter { !before($0.value.expiresAt, expired) }
            data.oneTimeTokens = data.oneTimeTokens.filter { !before($0.value.expiresAt, expired) }
            data.loginThrottles = data.loginThrottles.filter { !(before($0.value.lastFailureAt, idle) && before($0.value.lockedUntil, idle)) }
            state.data[tenantID] = data
            return count - (data.refreshTokens.count + data.oneTimeTokens.count + data.loginThrottles.count)
        }
    }

    // MARK: Events and outbox

    func events(recipient: UserID?, page: PageRequest) async throws -> Page<OutboxEvent> {
        let events = data.events.values.filter { recipient == nil || $0.recipients.contains { $0 == recipient } }
        return .keyset(events, descending: false, cursor: page.cursor, limit: page.limit) { ($0.occurredAt, $0.id.rawValue) }
    }

    func claimEvents(limit: Int, now: Date, leaseUntil: Date) async throws -> [OutboxEvent] {
        let tenantID = self.tenantID
        return storage.state.withLock { state in
            guard var data = state.data[tenantID] else { return [] }
            let nowKey = now.millisecondsSince1970
            let claimed = data.events.values
                .filter { $0.delivery.status == .pending && $0.delivery.availableAt.millisecondsSince1970 <= nowKey }
                .sorted { SortKey($0.occurredAt, $0.id.rawValue) < SortKey($1.occurredAt, $1.id.rawValue) }
                .prefix(max(0, limit))
                .map { event -> OutboxEvent in
                    var event = event
                    event.delivery.availableAt = leaseUntil
                    return event
                }
            for event in claimed { data.events[event.id] = event }
            state.data[tenantID] = data
            return claimed
        }
    }

    func markDelivered(_ ids: [EventID]) async throws {
        updateEvents(ids) { $0.delivery.status = .delivered }
    }

    func recordFailure(_ id: EventID, attempts: Int, retryAt: Date?, reason: String) async throws {
        updateEvents([id]) { event in
            guard event.delivery.status == .pending else { return }
            event.delivery.attempts = attempts
            event.delivery.lastError = reason
            if let retryAt {
                event.delivery.status = .pending
                event.delivery.availableAt = retryAt
            } else {
                event.delivery.status = .dead
            }
        }
    }

    func deadLetters(limit: Int) async throws -> [OutboxEvent] {
        Array(
            data.events.values.filter { $0.delivery.status == .dead }
                .sorted { SortKey($0.occurredAt, $0.id.rawValue) < SortKey($1.occurredAt, $1.id.rawValue) }
                .prefix(max(0, limit)))
    }

    private func updateEvents(_ ids: [EventID], _ body: (inout OutboxEvent) -> Void) {
        let tenantID = self.tenantID
        storage.state.withLock { state in
            guard var data = state.data[tenantID] else { return }
            for id in ids {
                guard var event = data.events[id] else { continue }
                body(&event)
                data.events[id] = event
            }
            state.data[tenantID] = data
        }
    }
}
