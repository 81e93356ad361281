public import TradesKit

extension TenantStorage {
    /// Marks the address of user `id` confirmed or not, straight in storage: the fixtures' users have confirmed theirs,
    /// and a test of what an unconfirmed address may do takes it back.
    public func setEmailVerified(_ verified: Bool, user id: UserID) async throws {
        guard var user = try await user(id) else { throw TradesKitError(.notFound, "User not found") }
        user.emailVerified = verified
        var changes = ChangeSet()
        changes.update(user)
        try await commit(changes)
    }
}
