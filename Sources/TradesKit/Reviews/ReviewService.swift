import Foundation

/// Two-sided reviews of closed jobs, hidden until both are in or the window ends.
public struct ReviewService: Sendable {
    let environment: ServiceEnvironment
    init(_ environment: ServiceEnvironment) { self.environment = environment }

    /// Reviews the other party of a closed job (once per party, within the tenant's review window).
    public func submit(by principal: Principal, job jobID: JobID, rating: Int, text: String) async throws -> Review {
        var validator = Validator()
        validator.range(rating, 1...5, field: "rating")
        let text = validator.text(text, field: "text", min: 0, max: 2_000)
        try validator.check()
        // The tenant's review window is read with the caller and the job, in one storage call.
        return try await environment.acting("review.submit", as: principal, onJob: jobID, reading: [.tenant]) { store, actor, job, read in
            guard job.isParty(actor.id), let contractorID = job.contractorID else {
                throw TradesKitError.forbidden("Only the homeowner and the contractor of a job review it")
            }
            guard job.status == .closed, let closedAt = job.closedAt else {
                throw TradesKitError.invalidTransition("Only closed jobs can be reviewed")
            }
            guard let tenant = read.tenant else { throw TradesKitError.notFound("Tenant") }
            let now = environment.now()
            let windowEnd = closedAt.addingTimeInterval(Double(tenant.settings.policies.reviewWindowSeconds))
            guard now < windowEnd else { throw TradesKitError.invalidTransition("The review window for this job has closed") }

            let subject = actor.id == job.ownerID ? contractorID : job.ownerID
            var changes = ChangeSet()
            changes.expectCaller(actor)
            var review = Review(
                id: environment.ids.make(), jobID: job.id, authorID: actor.id, subjectID: subject, rating: rating, text: text,
                createdAt: now, visibleFrom: windowEnd)
            // The second review reveals both at once. Each review also moves the job's version on, so of two reviews
            // committed at once the later one fails, retries from a fresh read, and finds the first.
            if var other = try await store.reviews(job: job.id).first(where: { $0.authorID == subject }) {
                review.visibleFrom = now
                other.visibleFrom = now
                changes.update(other)
            }
            changes.update(job)
            changes.append(.insertReview(review))
            try environment.record(ReviewSubmitted(reviewID: review.id, jobID: job.id, authorID: actor.id, subjectID: subject), in: &changes, at: now)
            try await store.commit(changes)
            return review
        }
    }

    /// A job's reviews the caller may see: visible ones, plus the caller's own; all for an admin.
    /// - Throws: ``TradesKitError/Code/forbidden`` for anyone but the job's parties and admins (a losing bidder, say).
    public func forJob(by principal: Principal, job jobID: JobID) async throws -> [Review] {
        try await environment.acting("review.job", as: principal, onJob: jobID) { store, actor, job in
            // A losing bidder may see the job, but its reviews would name who won it.
            guard actor.role == .admin || job.isParty(actor.id) else {
                throw TradesKitError.forbidden("Only the job's parties and admins see its reviews")
            }
            let now = environment.now()
            return try await store.reviews(job: job.id).filter { actor.role == .admin || $0.authorID == actor.id || $0.isVisible(at: now) }
        }
    }

    /// Visible reviews about a user of the tenant, newest first, for any member: in their public form
    /// (``PublicReview``), which names neither the author nor the job, so a losing bidder cannot learn who won.
    ///
    /// The page's `nextCursor` is the position of its last review (creation time and id), which the public form leaves
    /// out: hand it to clients sealed, not as it is (the reference server encrypts it).
    /// - Throws: ``TradesKitError/Code/notFound`` when the tenant has no such user.
    public func about(by principal: Principal, user subjectID: UserID, page: PageRequest = PageRequest()) async throws -> Page<PublicReview> {
        try await environment.acting("review.about", as: principal) { store, _ in
            guard let subject = try await store.user(subjectID) else { throw TradesKitError.notFound("User") }
            let reviews = try await store.reviews(subject: subjectID, visibleAt: environment.now(), page: page)
            return Page(items: reviews.items.map { PublicReview($0, subjectRole: subject.role) }, nextCursor: reviews.nextCursor)
        }
    }
}
