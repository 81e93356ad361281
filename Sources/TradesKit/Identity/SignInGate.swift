/// Lets one sign-in per account key through at a time, in this process.
///
/// The lockout is checked before the password and counted after it; attempts that overlap would all pass the check
/// before any failure is counted, so parallel guesses would get around the threshold. Holding the key from the check
/// to the count closes that window: a second attempt on the same key waits for the first to finish, then sees its
/// failure (and the lock, if it set one). Keys are held only while an attempt is in flight, so distinct keys cost
/// nothing once their attempts end. Waiting is first come, first served and is not cancellable: the holder finishes
/// in one password check and two short transactions.
///
/// Servers that share a database each have their own gate; between processes the re-check of the lock after the
/// password (see ``IdentityService/login(in:email:password:totpCode:)``) keeps the answers from telling anything.
actor SignInGate {
    private var waiting: [AccountKey: [CheckedContinuation<Void, Never>]] = [:]

    /// Runs `body` while holding `key`.
    nonisolated func withKey<T: Sendable>(_ key: AccountKey, _ body: () async throws -> T) async throws -> T {
        await acquire(key)
        do {
            let result = try await body()
            await release(key)
            return result
        } catch {
            await release(key)
            throw error
        }
    }

    private func acquire(_ key: AccountKey) async {
        guard waiting[key] != nil else {
            waiting[key] = []
            return
        }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
    }

    private func release(_ key: AccountKey) {
        guard var queue = waiting[key] else { return }
        if queue.isEmpty {
            waiting[key] = nil
        } else {
            let next = queue.removeFirst()
            waiting[key] = queue
            next.resume()
        }
    }
}
