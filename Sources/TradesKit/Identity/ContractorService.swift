public import Foundation

/// Contractor profiles and vetting.
public struct ContractorService: Sendable {
    let environment: ServiceEnvironment
    init(_ environment: ServiceEnvironment) { self.environment = environment }

    /// What a contractor may set on their own profile. Vetting is not here: only an admin sets it.
    public struct ProfileInput: Sendable, Hashable {
        /// A short description of the business, up to 200 characters.
        public var headline: String
        /// The trades, 1–20 categories of the tenant.
        public var trades: [CategoryID]
        /// Where they work; radius 1–500 km.
        public var serviceArea: GeoCircle
        /// The licence, if any.
        public var licence: Licence?
        /// Insurance expiry, if known.
        public var insuranceExpiresAt: Date?

        /// Creates the input.
        public init(headline: String = "", trades: [CategoryID], serviceArea: GeoCircle, licence: Licence? = nil, insuranceExpiresAt: Date? = nil) {
            self.headline = headline
            self.trades = trades
            self.serviceArea = serviceArea
            self.licence = licence
            self.insuranceExpiresAt = insuranceExpiresAt
        }
    }

    /// Creates or replaces the calling contractor's profile.
    ///
    /// An approved contractor who changes what was vetted (trades, licence, insurance) goes back to
    /// ``VettingStatus/pending`` for an admin to check again; a rejection stands whatever is edited.
    public func saveProfile(by principal: Principal, _ input: ProfileInput) async throws -> ContractorProfile {
        guard principal.role == .contractor else { throw TradesKitError.forbidden("Only contractors have a contractor profile") }
        var validator = Validator()
        let headline = validator.text(input.headline, field: "headline", min: 0, max: 200)
        if input.trades.isEmpty || input.trades.count > 20 { validator.fail("trades", "out_of_range", "must list 1 to 20 categories") }
        validator.point(input.serviceArea.center, field: "serviceArea.center")
        if !input.serviceArea.radiusKm.isFinite || !(1...500).contains(input.serviceArea.radiusKm) {
            validator.fail("serviceArea.radiusKm", "out_of_range", "must be between 1 and 500")
        }
        if let licence = input.licence {
            validator.text(licence.number, field: "licence.number", max: 50)
            validator.text(licence.region, field: "licence.region", max: 50)
            validator.date(licence.expiresAt, field: "licence.expiresAt")
        }
        if let insuranceExpiresAt = input.insuranceExpiresAt { validator.date(insuranceExpiresAt, field: "insuranceExpiresAt") }
        try validator.check()

        return try await environment.acting("contractor.profile", as: principal) { store, actor in
            let known = Set(try await store.categories().map(\.id))
            let unknown = input.trades.filter { !known.contains($0) }
            if !unknown.isEmpty {
                throw TradesKitError.validation([
                    FieldError(field: "trades", code: "unknown_category", message: "contains a category that does not exist")
                ])
            }
            var changes = ChangeSet()
            changes.expectCaller(actor)
            var seen = Set<CategoryID>()
            let trades = input.trades.filter { seen.insert($0).inserted }
            if var profile = try await store.contractorProfile(principal.userID) {
                let vettedChanged =
                    Set(profile.trades) != Set(trades) || profile.licence != input.licence
                    || profile.insuranceExpiresAt != input.insuranceExpiresAt
                profile.headline = headline
                profile.trades = trades
                profile.serviceArea = input.serviceArea
                profile.licence = input.licence
                profile.insuranceExpiresAt = input.insuranceExpiresAt
                if vettedChanged, profile.vetting == .approved {
                    profile.vetting = .pending
                    try environment.record(
                        ContractorVettingChanged(contractorID: profile.userID, vetting: .pending), in: &changes, at: environment.now())
                }
                let updated = changes.update(profile)
                try await store.commit(changes)
                return updated
            }
            let profile = ContractorProfile(
                userID: principal.userID, headline: headline, trades: trades, serviceArea: input.serviceArea,
                licence: input.licence, insuranceExpiresAt: input.insuranceExpiresAt)
            changes.append(.insertContractorProfile(profile))
            try await store.commit(changes)
            return profile
        }
    }

    /// A contractor's profile (any member of the tenant may read it).
    public func profile(by principal: Principal, _ contractorID: UserID) async throws -> ContractorProfile {
        try await environment.acting("contractor.get", as: principal) { store, _ in
            guard let profile = try await store.contractorProfile(contractorID) else { throw TradesKitError.notFound("Contractor profile") }
            return profile
        }
    }

    /// Sets a contractor's vetting status (admin only). With `expectedVersion`, the profile's version the admin looked
    /// at, the decision is refused if the profile changed since (a licence swapped in after the admin checked the old
    /// one, say).
    /// - Throws: ``TradesKitError/Code/conflict`` when the profile is no longer at `expectedVersion`.
    public func setVetting(
        by principal: Principal, _ contractorID: UserID, _ status: VettingStatus, expectedVersion: Int64? = nil
    ) async throws -> ContractorProfile {
        try await environment.acting("contractor.vetting", as: principal) { store, actor in
            guard actor.role == .admin else { throw TradesKitError.forbidden("Only an admin can vet contractors") }
            guard var profile = try await store.contractorProfile(contractorID) else { throw TradesKitError.notFound("Contractor profile") }
            try TradesKitError.expect(profile.version, toBe: expectedVersion, "The contractor profile")
            profile.vetting = status
            var changes = ChangeSet()
            changes.expectCaller(actor)
            let updated = changes.update(profile)
            try environment.record(ContractorVettingChanged(contractorID: contractorID, vetting: status), in: &changes, at: environment.now())
            try await store.commit(changes)
            return updated
        }
    }
}
