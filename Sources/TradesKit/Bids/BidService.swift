import CoreMetrics
import Foundation
import Logging

/// Blind bids: submit, withdraw, list under the visibility rule, and accept.
public struct BidService: Sendable {
    let environment: ServiceEnvironment
    init(_ environment: ServiceEnvironment) { self.environment = environment }

    /// What a bid takes.
    public struct NewBid: Sendable, Hashable {
        /// The price, positive, in the job's currency.
        public var amount: Money
        /// A note to the homeowner, up to 2000 characters.
        public var message: String
        /// The ``Job/version`` the price is for, as the contractor read the job: a bid on a job edited since is refused
        /// with ``TradesKitError/Code/conflict``. `nil` prices the job as the call first reads it.
        public var jobVersion: Int64?

        /// Creates the input.
        public init(amount: Money, message: String = "", jobVersion: Int64? = nil) {
            self.amount = amount
            self.message = message
            self.jobVersion = jobVersion
        }
    }

    /// The outcome of accepting a bid: everything the one change set did.
    public struct Acceptance: Sendable, Hashable {
        /// The awarded job.
        public let job: Job
        /// The accepted bid.
        public let accepted: Bid
        /// Every other live bid, now declined.
        public let declined: [Bid]
        /// The escrow opened for the money.
        public let escrow: Escrow
    }

    /// Submits a bid (contractors only): on an open job, in the contractor's trades and service area, vetted when the
    /// tenant requires it, one live bid per contractor per job.
    public func submit(by principal: Principal, on jobID: JobID, _ input: NewBid) async throws -> Bid {
        guard principal.role == .contractor else { throw TradesKitError.forbidden("Only contractors bid") }
        var validator = Validator()
        let message = validator.text(input.message, field: "message", min: 0, max: 2_000)
        if input.amount.amount <= 0 { validator.fail("amount.amount", "must_be_positive", "must be greater than zero") }
        if let version = input.jobVersion, version < 1 { validator.fail("jobVersion", "out_of_range", "must be 1 or more") }
        try validator.check()

        // A job the contractor may not see is not found, whatever its state: a 409 would confirm that it exists.
        // The tenant's policy and the contractor's profile are read with the caller and the job, in one storage call.
        // The bid prices the job as the contractor read it, or else as first read here: a job edited since (found on a
        // retry, too) places nothing.
        var pricedVersion = input.jobVersion
        return try await environment.acting("bid.submit", as: principal, onJob: jobID, reading: [.tenant, .contractorProfile]) {
            store, actor, job, read in
            guard let tenant = read.tenant else { throw TradesKitError.notFound("Tenant") }
            guard job.status == .open else { throw TradesKitError.invalidTransition("Bids can only be placed on open jobs") }
            var check = Validator()
            check.positiveAmount(input.amount, currency: job.budget.max.currency, field: "amount")
            try check.check()
            guard let profile = read.contractorProfile else {
                throw TradesKitError.forbidden("Complete your contractor profile before bidding")
            }
            if tenant.settings.policies.vettingRequiredToBid, profile.vetting != .approved {
                throw TradesKitError.forbidden("This marketplace requires vetting before bidding")
            }
            guard profile.trades.contains(job.categoryID) else { throw TradesKitError.forbidden("The job is outside your trades") }
            guard profile.serviceArea.contains(job.location) else { throw TradesKitError.forbidden("The job is outside your service area") }
            if let pricedVersion, pricedVersion != job.version {
                throw TradesKitError(.conflict, "The job was edited since it was read; read it again before bidding")
            }
            pricedVersion = job.version

            let now = environment.now()
            let bid = Bid(
                id: environment.ids.make(), jobID: job.id, contractorID: principal.userID, amount: input.amount, message: message,
                createdAt: now)
            var changes = ChangeSet()
            // The job must still be open, as read: an accept that commits first makes this set fail and retry.
            changes.append(.expectVersion(.job(job.id), version: job.version))
            // So must the profile and the caller the decision read: a vetting revoked (or trades changed), or the caller
            // suspended, meanwhile means a retry.
            changes.append(.expectVersion(.contractorProfile(profile.userID), version: profile.version))
            changes.expectCaller(actor)
            changes.append(.insertBid(bid))
            try environment.record(
                BidSubmitted(bidID: bid.id, jobID: job.id, ownerID: job.ownerID, contractorID: bid.contractorID, amount: bid.amount),
                in: &changes, at: now)
            try await store.commit(changes)
            BusinessMetrics.bidsSubmitted.increment()
            return bid
        }
    }

    /// Withdraws the caller's own submitted bid while the job is open.
    public func withdraw(by principal: Principal, _ bidID: BidID) async throws -> Bid {
        try await environment.acting("bid.withdraw", as: principal) { store, actor in
            guard let bid = try await store.bid(bidID, viewer: BidViewer(principal)) else { throw TradesKitError.notFound("Bid") }
            guard bid.contractorID == principal.userID else { throw TradesKitError.forbidden("Only the bidder can withdraw a bid") }
            guard let job = try await store.job(bid.jobID) else { throw TradesKitError.notFound("Job") }
            guard job.status == .open else { throw TradesKitError.invalidTransition("Bids can only be withdrawn while the job is open") }
            let now = environment.now()
            var changes = ChangeSet()
            changes.expectCaller(actor)
            let withdrawn = changes.update(try bid.withdrawing(at: now))
            try environment.record(
                BidWithdrawn(bidID: bid.id, jobID: job.id, ownerID: job.ownerID, contractorID: bid.contractorID), in: &changes, at: now)
            try await store.commit(changes)
            return withdrawn
        }
    }

    /// The bids on a job that the caller may see: all of them for the owner and admins, only their own for a contractor.
    public func list(by principal: Principal, job jobID: JobID) async throws -> [Bid] {
        try await environment.acting("bid.list", as: principal, onJob: jobID) { store, _, job in
            return try await store.bids(job: job.id, viewer: BidViewer(principal))
        }
    }

    /// One bid, if the caller may see it; otherwise not found.
    public func get(by principal: Principal, _ bidID: BidID) async throws -> Bid {
        try await environment.acting("bid.get", as: principal) { store, _ in
            guard let bid = try await store.bid(bidID, viewer: BidViewer(principal)) else { throw TradesKitError.notFound("Bid") }
            return bid
        }
    }

    /// The caller's own bids, newest first (contractors).
    public func mine(by principal: Principal, page: PageRequest = PageRequest()) async throws -> Page<Bid> {
        try await environment.acting("bid.mine", as: principal) { store, _ in
            return try await store.bids(contractor: principal.userID, page: page)
        }
    }

    /// Accepts a bid (the job's owner only), as one atomic change set: the job is awarded, the bid accepted, every other
    /// live bid declined, the escrow opened with the money authorised, the ledger posted and the events recorded.
    ///
    /// The authorisation uses the idempotency key `accept:<bid>:<call>`, one per call: the call's own retries after a
    /// concurrent change reuse it, and if the accept finally fails (another bid won, the bidder became unavailable) the
    /// authorisation is voided. A later accept of the same bid asks for a new one: reusing the key would replay the
    /// voided authorisation and open an escrow on money no longer held.
    /// - Throws: ``TradesKitError/Code/invalidTransition`` when the job is no longer open, or the bidder has been
    ///   suspended or (where the tenant requires it) is no longer vetted.
    public func accept(by principal: Principal, _ bidID: BidID) async throws -> Acceptance {
        let store = environment.store(principal)
        let idempotencyKey = "accept:\(bidID):\(environment.ids.next().lowercasedString)"
        var authorization: PaymentAuthorization?
        // The authorisation asked for, kept so that a failed call can be asked again (see the catch below).
        var requested: PaymentAuthorizationRequest?
        do {
            let acceptance = try await environment.run("bid.accept", tenant: principal.tenantID) {
                let caller = try await environment.actor(principal, in: store)
                guard let bid = try await store.bid(bidID, viewer: BidViewer(principal)), let job = try await store.job(bid.jobID) else {
                    throw TradesKitError.notFound("Bid")
                }
                guard job.ownerID == principal.userID else { throw TradesKitError.forbidden("Only the job's owner can accept a bid") }
                // Bids are validated in the job's currency and a job keeps its own; refuse any stored otherwise.
                guard bid.amount.currency == job.budget.max.currency else {
                    throw TradesKitError.invalidTransition("The bid is not in the job's currency")
                }
                let tenant = try await environment.tenant(of: store)
                // The bidder must still be able to take the work: not suspended, and vetted where the tenant requires it.
                // Decided before any money is authorised; the commit expects both rows as read.
                guard let bidder = try await store.user(bid.contractorID), !bidder.suspended else { throw Self.bidderUnavailable }
                var bidderProfile: ContractorProfile?
                if tenant.settings.policies.vettingRequiredToBid {
                    guard let profile = try await store.contractorProfile(bidder.id), profile.vetting == .approved else {
                        throw Self.bidderUnavailable
                    }
                    bidderProfile = profile
                }
                let now = environment.now()
                let awarded = try job.accepting(bid, at: now)
                let accepted = try bid.accepting(at: now)
                let live = try await store.bids(job: job.id, viewer: .admin).filter(\.isLive)
                let others = live.filter { $0.id != bid.id }

                let request = PaymentAuthorizationRequest(
                    tenantID: principal.tenantID, jobID: job.id, bidID: bid.id, homeownerID: job.ownerID,
                    amount: bid.amount, idempotencyKey: idempotencyKey)
                requested = request
                let auth = try await environment.pay("authorise the payment", tenant: principal.tenantID) {
                    try await environment.payments.authorize(request)
                }
                authorization = auth

                var changes = ChangeSet()
                let committedJob = changes.update(awarded)
                changes.append(.expectLiveBids(job.id, Set(live.map(\.id))))
                changes.append(.expectVersion(.user(bidder.id), version: bidder.version))
                changes.expectCaller(caller)
                if let bidderProfile { changes.append(.expectVersion(.contractorProfile(bidderProfile.userID), version: bidderProfile.version)) }
                let committedBid = changes.update(accepted)
                var declined: [Bid] = []
                for other in others {
                    declined.append(changes.update(try other.declining(at: now)))
                    try environment.record(BidDeclined(bidID: other.id, jobID: job.id, contractorID: other.contractorID), in: &changes, at: now)
                }
                let escrow = Escrow(
                    id: environment.ids.make(), jobID: job.id, bidID: bid.id, homeownerID: job.ownerID, contractorID: bid.contractorID,
                    amount: bid.amount, feeBasisPoints: tenant.settings.platformFeeBasisPoints,
                    status: auth.status == .held ? .held : .authorizationPending, paymentReference: auth.reference, createdAt: now)
                changes.append(.insertEscrow(escrow))
                if escrow.status == .held {
                    changes.append(try environment.ledger(.hold, job: job.id, Ledger.hold(bid.amount), at: now))
                }
                try environment.record(
                    BidAccepted(bidID: bid.id, jobID: job.id, ownerID: job.ownerID, contractorID: bid.contractorID, amount: bid.amount),
                    in: &changes, at: now)
                try environment.record(
                    JobStatusChanged(
                        jobID: job.id, ownerID: job.ownerID, contractorID: bid.contractorID, from: job.status,
                        to: awarded.status, automatic: false), in: &changes, at: now)
                try environment.recordPayment(escrow, in: &changes, at: now)
                try await store.commit(changes)
                return Acceptance(job: committedJob, accepted: committedBid, declined: declined, escrow: escrow)
            }
            BusinessMetrics.bidsAccepted.increment()
            return acceptance
        } catch {
            if authorization == nil, let requested { authorization = await authorizationOfFailedCall(requested) }
            if let authorization { await voidAbandoned(authorization, bidID: bidID, store: store) }
            throw error
        }
    }

    /// What a failed authorisation call left at the processor. A call can fail after the processor placed the hold (a
    /// timeout, a connection lost on the way back), and nothing else would ever release it: the homeowner's card would
    /// carry it for days, and a retried accept asks for another. Asking again with the same idempotency key answers the
    /// original outcome: the hold, to be voided, or the same failure (a decline), leaving nothing to release. If the
    /// processor cannot be reached now either, an operator is told (without payment details).
    private func authorizationOfFailedCall(_ request: PaymentAuthorizationRequest) async -> PaymentAuthorization? {
        do {
            return try await environment.payments.authorize(request)
        } catch {
            environment.logger.warning(
                "An authorisation call failed and could not be confirmed; check the processor for a hold to release",
                metadata: ["tradeskit.tenant": "\(request.tenantID)", "tradeskit.job": "\(request.jobID)", "tradeskit.bid": "\(request.bidID)"])
            return nil
        }
    }

    /// A bid whose contractor was suspended, or lost the vetting the tenant requires, since bidding.
    static let bidderUnavailable = TradesKitError(.invalidTransition, "The contractor who made this bid cannot take work at the moment")

    /// Voids the authorisation of an accept that failed, unless an escrow holds it: a commit whose answer was lost (a
    /// connection dropped after COMMIT was sent) may have stored it after all. When the escrow cannot be read, the
    /// authorisation is left to lapse rather than risk voiding one in use.
    private func voidAbandoned(_ authorization: PaymentAuthorization, bidID: BidID, store: any TenantStorage) async {
        let tenant = store.tenantID
        do {
            let inUse = try await environment.run("bid.accept.abandon", tenant: tenant) { () -> Bool in
                guard let bid = try await store.bid(bidID, viewer: .admin) else { return false }
                return try await store.escrow(job: bid.jobID)?.paymentReference == authorization.reference
            }
            if inUse { return }
        } catch {
            environment.logger.error(
                "Could not check an abandoned authorisation; it is left to lapse",
                metadata: ["tradeskit.tenant": "\(tenant)", "tradeskit.bid": "\(bidID)"])
            return
        }
        do {
            try await environment.payments.void(paymentReference: authorization.reference, idempotencyKey: "void:\(authorization.reference)")
        } catch {
            // The authorisation lapses on its own after a few days; log it for reconciliation, without payment details.
            environment.logger.error(
                "Could not void an abandoned authorisation", metadata: ["tradeskit.tenant": "\(tenant)", "tradeskit.bid": "\(bidID)"])
        }
    }
}
