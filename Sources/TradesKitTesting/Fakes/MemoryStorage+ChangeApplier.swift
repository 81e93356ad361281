import Foundation
import TradesKit

/// Applies changes one by one to a copy of the state; the caller keeps the copy only when every change succeeded.
struct ChangeApplier {
    var state: MemoryStorageState
    let tenantID: TenantID

    init(state: MemoryStorageState, tenantID: TenantID) {
        self.state = state
        self.tenantID = tenantID
    }

    private var data: TenantData {
        get { state.data[tenantID] ?? TenantData() }
        set { state.data[tenantID] = newValue }
    }

    mutating func apply(_ change: ChangeSet.Change) throws(StorageError) {
        switch change {
        case .insertTenant(let tenant):
            guard tenant.id == tenantID else {
                throw StorageError(.failure, message: "A tenant can only be inserted through its own handle")
            }
            guard state.tenants[tenant.id] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            try checkSlug(tenant)
            state.tenants[tenant.id] = tenant
            if state.data[tenant.id] == nil { state.data[tenant.id] = TenantData() }
        case .updateTenant(let tenant):
            guard tenant.id == tenantID else { throw Self.missing("tenant") }
            let stored = try Self.current(state.tenants[tenant.id], tenant.version, "tenant")
            if stored.slug != tenant.slug { try checkSlug(tenant) }
            state.tenants[tenant.id] = tenant.bumped
        case .insertUser(let user):
            try requireTenant()
            guard data.users[user.id] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            try checkEmail(user)
            data.users[user.id] = user
        case .updateUser(let user):
            _ = try Self.current(data.users[user.id], user.version, "user")
            try checkEmail(user)
            data.users[user.id] = user.bumped
        case .insertContractorProfile(let profile):
            guard data.profiles[profile.userID] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            guard data.users[profile.userID] != nil else { throw Self.missing("user") }
            data.profiles[profile.userID] = profile
        case .updateContractorProfile(let profile):
            _ = try Self.current(data.profiles[profile.userID], profile.version, "contractor profile")
            data.profiles[profile.userID] = profile.bumped
        case .insertCategory(let category):
            try requireTenant()
            guard data.categories[category.id] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            guard !data.categories.values.contains(where: { $0.slug == category.slug }) else {
                throw Self.duplicate(UniqueConstraint.categorySlug)
            }
            data.categories[category.id] = category
        case .insertJob(let job):
            guard data.jobs[job.id] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            try checkReferences(of: job)
            data.jobs[job.id] = job
        case .updateJob(let job):
            _ = try Self.current(data.jobs[job.id], job.version, "job")
            try checkReferences(of: job)
            data.jobs[job.id] = job.bumped
        case .insertBid(let bid):
            guard data.bids[bid.id] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            guard data.jobs[bid.jobID] != nil else { throw Self.missing("job") }
            guard data.users[bid.contractorID] != nil else { throw Self.missing("user") }
            try checkLiveBid(bid)
            data.bids[bid.id] = bid
        case .updateBid(let bid):
            _ = try Self.current(data.bids[bid.id], bid.version, "bid")
            try checkLiveBid(bid)
            data.bids[bid.id] = bid.bumped
        case .insertEscrow(let escrow):
            guard data.escrows[escrow.id] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            guard data.jobs[escrow.jobID] != nil else { throw Self.missing("job") }
            guard data.bids[escrow.bidID] != nil else { throw Self.missing("bid") }
            guard data.users[escrow.homeownerID] != nil, data.users[escrow.contractorID] != nil else { throw Self.missing("user") }
            guard !data.escrows.values.contains(where: { $0.jobID == escrow.jobID }) else { throw Self.duplicate(UniqueConstraint.escrowJob) }
            data.escrows[escrow.id] = escrow
        case .updateEscrow(let escrow):
            _ = try Self.current(data.escrows[escrow.id], escrow.version, "escrow")
            data.escrows[escrow.id] = escrow.bumped
        case .insertLedgerTransaction(let transaction):
            let existing = Set(data.ledger.map(\.id))
            var seen = Set<LedgerEntryID>()
            for entry in transaction.entries {
                guard !existing.contains(entry.id), seen.insert(entry.id).inserted else { throw Self.duplicate(UniqueConstraint.primaryKey) }
                guard data.jobs[entry.jobID] != nil else { throw Self.missing("job") }
            }
            data.ledger.append(contentsOf: transaction.entries)
        case .insertDispute(let dispute):
            guard data.disputes[dispute.id] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            guard data.jobs[dispute.jobID] != nil else { throw Self.missing("job") }
            guard data.users[dispute.openedBy] != nil, data.users[dispute.respondent] != nil else { throw Self.missing("user") }
            try checkOpenDispute(dispute)
            data.disputes[dispute.id] = dispute
        case .updateDispute(let dispute):
            _ = try Self.current(data.disputes[dispute.id], dispute.version, "dispute")
            if let resolver = dispute.resolution?.resolvedBy, data.users[resolver] == nil { throw Self.missing("user") }
            try checkOpenDispute(dispute)
            data.disputes[dispute.id] = dispute.bumped
        case .insertReview(let review):
            guard data.reviews[review.id] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            guard data.jobs[review.jobID] != nil else { throw Self.missing("job") }
            guard data.users[review.authorID] != nil, data.users[review.subjectID] != nil else { throw Self.missing("user") }
            guard !data.reviews.values.contains(where: { $0.jobID == review.jobID && $0.authorID == review.authorID }) else {
                throw Self.duplicate(UniqueConstraint.reviewAuthor)
            }
            data.reviews[review.id] = review
        case .updateReview(let review):
            _ = try Self.current(data.reviews[review.id], review.version, "review")
            data.reviews[review.id] = review.bumped
        case .insertMessage(let message):
            guard data.messages[message.id] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            guard data.jobs[message.jobID] != nil else { throw Self.missing("job") }
            guard data.users[message.senderID] != nil else { throw Self.missing("user") }
            data.messages[message.id] = message
        case .appendEvent(let event):
            try requireTenant()
            guard data.events[event.id] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            data.events[event.id] = event
        case .expectVersion(.job(let id), let version):
            _ = try Self.current(data.jobs[id], version, "job")
        case .expectVersion(.user(let id), let version):
            _ = try Self.current(data.users[id], version, "user")
        case .expectVersion(.contractorProfile(let id), let version):
            _ = try Self.current(data.profiles[id], version, "contractor profile")
        case .expectLiveBids(let jobID, let expected):
            guard data.jobs[jobID] != nil else { throw Self.missing("job") }
            let live = Set(data.bids.values.filter { $0.jobID == jobID && $0.isLive }.map(\.id))
            guard live == expected else { throw StorageError(.versionConflict, message: "The live bids of the job changed") }
        case .insertRefreshToken, .updateRefreshToken, .revokeRefreshTokenFamily, .revokeRefreshTokens, .insertOneTimeToken,
            .updateOneTimeToken, .consumeOneTimeTokens, .insertTwoFactor, .updateTwoFactor, .deleteTwoFactor, .insertLoginThrottle,
            .updateLoginThrottle:
            try applyIdentity(change)
        }
    }

    /// The identity changes: sessions, e-mailed tokens, two-factor enrolments, login throttles.
    private mutating func applyIdentity(_ change: ChangeSet.Change) throws(StorageError) {
        switch change {
        case .insertRefreshToken(let token):
            guard data.refreshTokens[token.id] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            guard data.users[token.userID] != nil else { throw Self.missing("user") }
            guard !data.refreshTokens.values.contains(where: { $0.tokenHash == token.tokenHash }) else {
                throw Self.duplicate(UniqueConstraint.refreshTokenHash)
            }
            data.refreshTokens[token.id] = token
        case .updateRefreshToken(let token):
            _ = try Self.current(data.refreshTokens[token.id], token.version, "refresh token")
            data.refreshTokens[token.id] = token.bumped
        case .revokeRefreshTokenFamily(let family, let now):
            revokeRefreshTokens(at: now) { $0.familyID == family }
        case .revokeRefreshTokens(let user, let now):
            revokeRefreshTokens(at: now) { $0.userID == user }
        case .insertOneTimeToken(let token):
            guard data.oneTimeTokens[token.id] == nil else { throw Self.duplicate(UniqueConstraint.primaryKey) }
            guard data.users[token.userID] != nil else { throw Self.missing("user") }
            guard !data.oneTimeTokens.values.contains(where: { $0.tokenHash == token.tokenHash }) else {
                throw Self.duplicate(UniqueConstraint.oneTimeTokenHash)
            }
            data.oneTimeTokens[token.id] = token
        case .updateOneTimeToken(let token):
            _ = try Self.current(data.oneTimeTokens[token.id], token.version, "one-time token")
            data.oneTimeTokens[token.id] = token.bumped
        case .consumeOneTimeTokens(let user, let purpose, let now):
            for var token in data.oneTimeTokens.values where token.userID == user && token.purpose == purpose && token.usedAt == nil {
                token.usedAt = now
                token.version += 1
                data.oneTimeTokens[token.id] = token
            }
        case .insertTwoFactor(let enrollment):
            guard data.users[enrollment.userID] != nil else { throw Self.missing("user") }
            guard data.twoFactor[enrollment.userID] == nil else { throw Self.duplicate(UniqueConstraint.twoFactorUser) }
            data.twoFactor[enrollment.userID] = enrollment
        case .updateTwoFactor(let enrollment):
            _ = try Self.current(data.twoFactor[enrollment.userID], enrollment.version, "two-factor enrolment")
            data.twoFactor[enrollment.userID] = enrollment.bumped
        case .deleteTwoFactor(let user, let version):
            _ = try Self.current(data.twoFactor[user], version, "two-factor enrolment")
            data.twoFactor[user] = nil
        case .insertLoginThrottle(let throttle):
            try requireTenant()
            guard data.loginThrottles[throttle.key] == nil else { throw Self.duplicate(UniqueConstraint.loginThrottleKey) }
            data.loginThrottles[throttle.key] = throttle
        case .updateLoginThrottle(let throttle):
            _ = try Self.current(data.loginThrottles[throttle.key], throttle.version, "login throttle")
            data.loginThrottles[throttle.key] = throttle.bumped
        default:
            // Only identity changes are passed here.
            break
        }
    }

    /// Revokes the matching tokens not revoked yet, bumping their versions; earlier revocations keep their instant.
    private mutating func revokeRefreshTokens(at now: Date, where matches: (RefreshToken) -> Bool) {
        for var token in data.refreshTokens.values where matches(token) && token.revokedAt == nil {
            token.revokedAt = now
            token.version += 1
            data.refreshTokens[token.id] = token
        }
    }

    /// Tenant rows need their tenant: a handle for a tenant that was never inserted writes nothing.
    private func requireTenant() throws(StorageError) {
        guard state.tenants[tenantID] != nil else { throw Self.missing("tenant") }
    }

    private func checkSlug(_ tenant: Tenant) throws(StorageError) {
        if state.tenants.values.contains(where: { $0.id != tenant.id && $0.slug == tenant.slug }) {
            throw Self.duplicate(UniqueConstraint.tenantSlug)
        }
    }

    private func checkEmail(_ user: User) throws(StorageError) {
        if data.users.values.contains(where: { $0.id != user.id && $0.email.normalized == user.email.normalized }) {
            throw Self.duplicate(UniqueConstraint.userEmail)
        }
    }

    /// What a job points at exists in the tenant, as the databases' foreign keys require: its owner, category,
    /// contractor and accepted bid.
    private func checkReferences(of job: Job) throws(StorageError) {
        guard data.users[job.ownerID] != nil else { throw Self.missing("user") }
        guard data.categories[job.categoryID] != nil else { throw Self.missing("category") }
        if let contractor = job.contractorID, data.users[contractor] == nil { throw Self.missing("user") }
        if let bid = job.acceptedBidID, data.bids[bid] == nil { throw Self.missing("bid") }
    }

    private func checkLiveBid(_ bid: Bid) throws(StorageError) {
        guard bid.isLive else { return }
        if data.bids.values.contains(where: { $0.id != bid.id && $0.jobID == bid.jobID && $0.contractorID == bid.contractorID && $0.isLive }) {
            throw Self.duplicate(UniqueConstraint.liveBid)
        }
    }

    private func checkOpenDispute(_ dispute: Dispute) throws(StorageError) {
        guard dispute.status != .resolved else { return }
        if data.disputes.values.contains(where: { $0.id != dispute.id && $0.jobID == dispute.jobID && $0.status != .resolved }) {
            throw Self.duplicate(UniqueConstraint.openDispute)
        }
    }

    /// The stored row, if it exists and is at `version`.
    private static func current<Row: Versioned>(_ stored: Row?, _ version: Int64, _ what: String) throws(StorageError) -> Row {
        guard let stored else { throw missing(what) }
        guard stored.version == version else {
            throw StorageError(.versionConflict, message: "The \(what) is at version \(stored.version), not \(version)")
        }
        return stored
    }

    private static func missing(_ what: String) -> StorageError { StorageError(.missingRow, message: "No such \(what) in this tenant") }

    private static func duplicate(_ constraint: String) -> StorageError {
        StorageError(.uniqueViolation, constraint: constraint, message: "Unique constraint \(constraint) violated")
    }
}
