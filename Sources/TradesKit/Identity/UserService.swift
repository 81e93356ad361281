import Foundation

/// Registration, accounts and suspension.
public struct UserService: Sendable {
    let environment: ServiceEnvironment
    init(_ environment: ServiceEnvironment) { self.environment = environment }

    /// What self-registration takes.
    public struct Registration: Sendable, Hashable {
        /// The e-mail address (unique per tenant).
        public var email: String
        /// The password, 10–128 characters; only its hash is stored.
        public var password: String
        /// The display name.
        public var displayName: String
        /// An optional phone number in E.164.
        public var phone: String?
        /// Homeowner or contractor; admins are created by the platform operator.
        public var role: Role

        /// Creates the input.
        public init(email: String, password: String, displayName: String, phone: String? = nil, role: Role) {
            self.email = email
            self.password = password
            self.displayName = displayName
            self.phone = phone
            self.role = role
        }

        /// The problems of the address, display name, phone and password, as registering checks them, without
        /// registering anything: a layer that refuses the input for reasons of its own (an unknown role) lists these
        /// with its own, so a client learns every bad field at once.
        public var fieldErrors: [FieldError] { validated(passwordOptional: false).errors }

        /// The normalised fields and the problems found.
        func validated(passwordOptional: Bool) -> (email: EmailAddress?, displayName: String, phone: PhoneNumber?, errors: [FieldError]) {
            var validator = Validator()
            var address: EmailAddress?
            do { address = try EmailAddress(email) } catch { validator.fail("email", "invalid_format", "must be an e-mail address") }
            let name = validator.text(displayName, field: "displayName", max: 100)
            let number = UserService.validatePhone(phone, into: &validator)
            if !(passwordOptional && password.isEmpty) { validator.password(password) }
            return (address, name, number, validator.errors)
        }
    }

    /// Changes a user may make to their own account.
    public struct Update: Sendable, Hashable {
        /// A new display name.
        public var displayName: String?
        /// A new phone number; an empty string removes it.
        public var phone: String?
        /// Whether to have notices by e-mail (``NotificationPreferences/email``).
        public var notifyByEmail: Bool?
        /// Whether to have notices by SMS (``NotificationPreferences/sms``).
        public var notifyBySMS: Bool?

        /// Creates the input.
        public init(displayName: String? = nil, phone: String? = nil, notifyByEmail: Bool? = nil, notifyBySMS: Bool? = nil) {
            self.displayName = displayName
            self.phone = phone
            self.notifyByEmail = notifyByEmail
            self.notifyBySMS = notifyBySMS
        }
    }

    /// Registers a homeowner or contractor in `tenant`, with the address not confirmed: the account signs in once it is
    /// (``IdentityService/verifyEmail(in:token:)``, a password reset, or ``markEmailVerified(in:_:)`` for an embedder's
    /// own check).
    public func register(in tenant: TenantID, _ registration: Registration) async throws -> User {
        guard registration.role != .admin else { throw TradesKitError(.forbidden, "Admins cannot self-register") }
        return try await create(in: tenant, registration, emailVerified: false)
    }

    /// Creates an admin of `tenant` (platform operator only). `password` may be `nil` to be set later.
    public func createAdmin(
        by operator: PlatformOperator, in tenant: TenantID, email: String, displayName: String,
        password: String?
    ) async throws -> User {
        let registration = Registration(email: email, password: password ?? "", displayName: displayName, role: .admin)
        return try await create(in: tenant, registration, emailVerified: true, passwordOptional: password == nil)
    }

    private func create(in tenantID: TenantID, _ input: Registration, emailVerified: Bool, passwordOptional: Bool = false) async throws -> User {
        let (email, displayName, phone, errors) = input.validated(passwordOptional: passwordOptional)
        guard errors.isEmpty, let email else { throw TradesKitError.validation(errors) }

        let store = environment.storage.tenant(tenantID)
        let hash: String? = input.password.isEmpty ? nil : try await environment.passwordHasher.hash(input.password)
        return try await environment.run("user.register", tenant: tenantID) {
            _ = try await environment.tenant(of: store)
            let now = environment.now()
            let user = User(
                id: environment.ids.make(), email: email, displayName: displayName, phone: phone, role: input.role,
                passwordHash: hash, emailVerified: emailVerified, createdAt: now)
            var changes = ChangeSet()
            changes.append(.insertUser(user))
            try environment.record(UserRegistered(userID: user.id, role: user.role), in: &changes, at: now)
            try await store.commit(changes)
            return user
        }
    }

    /// Checks an e-mail and password; `nil` for an unknown address or a wrong password (the caller cannot tell which).
    /// It counts no failures and issues no session: sign-in goes through ``IdentityService/login(in:email:password:totpCode:)``.
    public func authenticate(in tenant: TenantID, email: String, password: String) async throws -> User? {
        let store = environment.storage.tenant(tenant)
        let address = try? EmailAddress(email)
        let user = try await environment.run("user.authenticate", tenant: tenant) { () -> User? in
            guard let address else { return nil }
            return try await store.user(email: address)
        }
        guard let user, let hash = user.passwordHash else { return nil }
        guard try await environment.passwordHasher.verify(password, against: hash) else { return nil }
        if user.suspended { throw TradesKitError(.suspended, "This account is suspended") }
        return user
    }

    /// The caller's own account, or any account for an admin.
    public func get(by principal: Principal, _ id: UserID) async throws -> User {
        try await environment.acting("user.get", as: principal) { store, actor in
            guard actor.id == id || actor.role == .admin, let user = try await store.user(id) else { throw TradesKitError.notFound("User") }
            return user
        }
    }

    /// What any member of the tenant may see about a user: name, role, rating and (for contractors) profile.
    public func publicProfile(by principal: Principal, _ id: UserID) async throws -> PublicUser {
        try await environment.acting("user.public", as: principal) { store, _ in
            guard let user = try await store.user(id) else { throw TradesKitError.notFound("User") }
            let rating = try await store.ratingSummary(for: id, at: environment.now())
            let profile = user.role == .contractor ? try await store.contractorProfile(id) : nil
            return PublicUser(id: user.id, displayName: user.displayName, role: user.role, rating: rating, contractorProfile: profile)
        }
    }

    /// Updates the caller's own account (or any, for an admin). Role, e-mail, verification and suspension cannot be set here.
    public func update(by principal: Principal, _ id: UserID, _ update: Update) async throws -> User {
        var validator = Validator()
        let displayName = update.displayName.map { validator.text($0, field: "displayName", max: 100) }
        var phone: PhoneNumber??
        if let raw = update.phone { phone = .some(raw.isEmpty ? nil : Self.validatePhone(raw, into: &validator)) }
        try validator.check()
        return try await environment.acting("user.update", as: principal) { store, actor in
            guard actor.id == id || actor.role == .admin, var user = try await store.user(id) else { throw TradesKitError.notFound("User") }
            if let displayName { user.displayName = displayName }
            if let phone { user.phone = phone }
            if let email = update.notifyByEmail { user.notifications.email = email }
            if let sms = update.notifyBySMS { user.notifications.sms = sms }
            var changes = ChangeSet()
            let updated = changes.update(user)
            try await store.commit(changes)
            return updated
        }
    }

    /// Marks a user's e-mail address verified without a link (an embedder's own check; links go through
    /// ``IdentityService/verifyEmail(in:token:)``).
    public func markEmailVerified(in tenant: TenantID, _ id: UserID) async throws -> User {
        let store = environment.storage.tenant(tenant)
        return try await environment.run("user.verify", tenant: tenant) {
            guard var user = try await store.user(id) else { throw TradesKitError.notFound("User") }
            guard !user.emailVerified else { return user }
            user.emailVerified = true
            var changes = ChangeSet()
            let updated = changes.update(user)
            try await store.commit(changes)
            return updated
        }
    }

    /// Replaces a user's password hash without a reset link (an embedder's own check). It leaves sessions alone; a reset
    /// through ``IdentityService/confirmPasswordReset(in:token:newPassword:)`` also revokes them.
    public func setPassword(in tenant: TenantID, _ id: UserID, password: String) async throws {
        var validator = Validator()
        validator.password(password)
        try validator.check()
        let store = environment.storage.tenant(tenant)
        let hash = try await environment.passwordHasher.hash(password)
        try await environment.run("user.password", tenant: tenant) {
            guard var user = try await store.user(id) else { throw TradesKitError.notFound("User") }
            user.passwordHash = hash
            var changes = ChangeSet()
            changes.update(user)
            try await store.commit(changes)
        }
    }

    /// Suspends or reinstates a user (admin only). Admins cannot suspend themselves.
    public func setSuspended(by principal: Principal, _ id: UserID, suspended: Bool) async throws -> User {
        try await environment.acting("user.suspend", as: principal) { store, actor in
            guard actor.role == .admin else { throw TradesKitError.forbidden("Only an admin can suspend users") }
            guard var user = try await store.user(id) else { throw TradesKitError.notFound("User") }
            guard user.id != actor.id else { throw TradesKitError.forbidden("Admins cannot suspend themselves") }
            guard user.suspended != suspended else { return user }
            let now = environment.now()
            user.suspended = suspended
            // A suspension ends the user's sessions, refresh tokens included, and spends the links e-mailed to them
            // (password reset, verification); reinstating brings none of them back.
            if suspended { user.endSessions() }
            var changes = ChangeSet()
            if suspended {
                changes.append(.revokeRefreshTokens(user: id, at: now))
                for purpose in OneTimeTokenPurpose.allCases { changes.append(.consumeOneTimeTokens(user: id, purpose: purpose, at: now)) }
            }
            let updated = changes.update(user)
            try environment.record(UserSuspensionChanged(userID: id, suspended: suspended), in: &changes, at: now)
            try await store.commit(changes)
            return updated
        }
    }

    /// Users of the tenant in registration order (admin only).
    public func list(by principal: Principal, role: Role? = nil, page: PageRequest = PageRequest()) async throws -> Page<User> {
        try await environment.acting("user.list", as: principal) { store, actor in
            guard actor.role == .admin else { throw TradesKitError.forbidden("Only an admin can list users") }
            return try await store.users(role: role, page: page)
        }
    }

    fileprivate static func validatePhone(_ raw: String?, into validator: inout Validator) -> PhoneNumber? {
        guard let raw else { return nil }
        do {
            return try PhoneNumber(raw)
        } catch {
            validator.fail("phone", "invalid_format", "must be in E.164 format, e.g. +14155550123")
            return nil
        }
    }
}

/// The part of a user that other members of the tenant may see.
public struct PublicUser: Sendable, Hashable, Codable {
    /// The user's id.
    public let id: UserID
    /// The display name.
    public let displayName: String
    /// The role.
    public let role: Role
    /// The rating from visible reviews.
    public let rating: RatingSummary
    /// The contractor profile, for contractors who have one.
    public let contractorProfile: ContractorProfile?
}
