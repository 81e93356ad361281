public import Foundation
public import TradesKit

/// Makes valid values for tests: every id comes from ``ids``, every date is passed in, every default is valid.
///
/// ```swift
/// let fixtures = Fixtures()
/// let tenant = fixtures.tenant(slug: "acme", at: clock.now())
/// let owner = try fixtures.user(.homeowner, email: "ann@example.com", at: clock.now())
/// ```
public struct Fixtures: Sendable {
    /// Where ids come from.
    public let ids: any IDGenerator

    /// Creates fixtures drawing ids from `ids` (a fresh ``SequentialIDGenerator`` by default).
    public init(ids: any IDGenerator = SequentialIDGenerator()) {
        self.ids = ids
    }

    /// A tenant with default settings: USD, a 1000 bps (10 %) fee, default policies.
    public func tenant(
        slug: String = "acme", displayName: String? = nil, currency: Currency = .usd, feeBasisPoints: Int = 1_000,
        at date: Date
    ) -> Tenant {
        let name = displayName ?? "\(slug.capitalized) Trades"
        let branding = Branding(name: name, fromEmail: "no-reply@\(slug).example.com", smsSender: "TRADES")
        let settings = TenantSettings(currency: currency, platformFeeBasisPoints: feeBasisPoints, branding: branding)
        return Tenant(id: ids.make(), slug: slug, displayName: name, settings: settings, createdAt: date)
    }

    /// A user of `role`; the e-mail defaults to `<role>-<id>@example.com`.
    public func user(
        _ role: Role, email: String? = nil, displayName: String? = nil, phone: String? = nil,
        at date: Date
    ) throws -> User {
        let id: UserID = ids.make()
        let address = try EmailAddress(email ?? "\(role.rawValue)-\(id.uuidString.suffix(12))@example.com")
        return User(
            id: id, email: address, displayName: displayName ?? "Test \(role.rawValue.capitalized)",
            phone: try phone.map { try PhoneNumber($0) }, role: role, passwordHash: nil, emailVerified: true, createdAt: date)
    }

    /// A vetted contractor profile working in `trades` within `radiusKm` of `center`.
    public func contractorProfile(
        for userID: UserID, trades: [CategoryID], center: GeoPoint = Fixtures.london,
        radiusKm: Double = 50, vetting: VettingStatus = .approved
    ) -> ContractorProfile {
        ContractorProfile(
            userID: userID, headline: "Reliable and insured", trades: trades,
            serviceArea: GeoCircle(center: center, radiusKm: radiusKm), vetting: vetting)
    }

    /// One category.
    public func category(slug: String = "plumbing", name: String = "Plumbing") -> TradeCategory {
        TradeCategory(id: ids.make(), slug: slug, name: name)
    }

    /// The whole ``DefaultCatalogue`` with fresh ids.
    public func defaultCategories() -> [TradeCategory] {
        DefaultCatalogue.trades.map { TradeCategory(id: ids.make(), slug: $0.slug, name: $0.name) }
    }

    /// An open job with a budget of 100.00–500.00 in `currency`.
    public func job(
        owner: UserID, category: CategoryID, title: String = "Fix a leaking tap",
        description: String = "The kitchen tap drips all night.", location: GeoPoint = Fixtures.london,
        currency: Currency = .usd, status: JobStatus = .open, at date: Date
    ) -> Job {
        Job(
            id: ids.make(), ownerID: owner, categoryID: category, title: title, description: description, location: location,
            budget: BudgetRange(min: Money(10_000, currency), max: Money(50_000, currency)), status: status, createdAt: date)
    }

    /// A submitted bid on `job`.
    public func bid(
        on jobID: JobID, by contractor: UserID, amount: Int64 = 25_000, currency: Currency = .usd,
        message: String = "I can do it this week.", status: BidStatus = .submitted, at date: Date
    ) -> Bid {
        Bid(
            id: ids.make(), jobID: jobID, contractorID: contractor, amount: Money(amount, currency), message: message,
            status: status, createdAt: date)
    }

    /// An escrow holding `bid`'s amount for `job`.
    public func escrow(
        job: Job, bid: Bid, feeBasisPoints: Int = 1_000, status: EscrowStatus = .held,
        paymentReference: String? = "pi_test_1", at date: Date
    ) -> Escrow {
        Escrow(
            id: ids.make(), jobID: job.id, bidID: bid.id, homeownerID: job.ownerID, contractorID: bid.contractorID, amount: bid.amount,
            feeBasisPoints: feeBasisPoints, status: status, paymentReference: paymentReference, createdAt: date)
    }

    /// The balanced ledger transaction of a hold of `amount` on `job`.
    public func holdTransaction(job: JobID, amount: Money, at date: Date) throws -> LedgerTransaction {
        try LedgerTransaction(kind: .hold, jobID: job, lines: Ledger.hold(amount), at: date, ids: ids)
    }

    /// A dispute on `job` awaiting the respondent's answer.
    public func dispute(
        job: JobID, openedBy: UserID, respondent: UserID, reason: String = "The work is unfinished.",
        jobStatusBefore: JobStatus = .completed, at date: Date
    ) -> Dispute {
        Dispute(
            id: ids.make(), jobID: job, openedBy: openedBy, respondent: respondent, reason: reason, jobStatusBefore: jobStatusBefore,
            createdAt: date)
    }

    /// A review visible from `visibleFrom` (by default at once).
    public func review(
        job: JobID, author: UserID, subject: UserID, rating: Int = 5, text: String = "Great work.", at date: Date,
        visibleFrom: Date? = nil
    ) -> Review {
        Review(
            id: ids.make(), jobID: job, authorID: author, subjectID: subject, rating: rating, text: text, createdAt: date,
            visibleFrom: visibleFrom ?? date)
    }

    /// A message in `job`'s thread.
    public func message(job: JobID, sender: UserID, body: String = "When can you start?", at date: Date) -> Message {
        Message(id: ids.make(), jobID: job, senderID: sender, body: body, createdAt: date)
    }

    /// A pending `message.posted` outbox event from `sender` to `recipient` about `job`.
    public func event(job: JobID, sender: UserID, recipient: UserID, at date: Date) throws -> OutboxEvent {
        // Core's events have no public memberwise initialisers, so the typed event is decoded from its JSON form.
        let messageID: MessageID = ids.make()
        let json = #"{"messageID":"\#(messageID)","jobID":"\#(job)","senderID":"\#(sender)","recipientID":"\#(recipient)"}"#
        let posted = try JSONDecoder().decode(MessagePosted.self, from: Data(json.utf8))
        return try OutboxEvent(posted, id: ids.make(), at: date)
    }

    /// A live refresh token of `user` in `family` (a new family by default), issued at `date`, valid for 7 days.
    /// Its hash is that of a fresh random token, so tokens never collide.
    public func refreshToken(user: UserID, family: RefreshTokenFamilyID? = nil, at date: Date) -> RefreshToken {
        RefreshToken(
            id: ids.make(), familyID: family ?? ids.make(), userID: user, tokenHash: OpaqueToken.hash(OpaqueToken.generate()), issuedAt: date,
            expiresAt: date.addingTimeInterval(7 * 86_400))
    }

    /// An unused one-time token of `user` for `purpose`, created at `date`, valid for an hour.
    public func oneTimeToken(user: UserID, purpose: OneTimeTokenPurpose, at date: Date) -> OneTimeToken {
        OneTimeToken(
            id: ids.make(), userID: user, purpose: purpose, tokenHash: OpaqueToken.hash(OpaqueToken.generate()), createdAt: date,
            expiresAt: date.addingTimeInterval(3_600))
    }

    /// A pending two-factor enrolment of `user` whose sealed secret is `sealedSecret` (by default every byte value once).
    public func twoFactor(user: UserID, sealedSecret: Data = Data((0...255).map { UInt8($0) }), at date: Date) -> TwoFactorEnrollment {
        TwoFactorEnrollment(userID: user, sealedSecret: sealedSecret, createdAt: date)
    }

    /// Central London, the default location of jobs and service areas.
    public static let london = GeoPoint(latitude: 51.5074, longitude: -0.1278)
}
