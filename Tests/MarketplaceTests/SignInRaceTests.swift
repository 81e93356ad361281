import Foundation
import Testing
import TradesKit
import TradesKitTesting

/// A password hasher that runs a hook once, before the next verification, then verifies like the fake.
final class PausingHasher: PasswordHasher {
    private let base = MemoryPasswordHasher()
    private let hooks = HookSlot()

    func beforeNextVerify(_ hook: @escaping @Sendable () async throws -> Void) async { await hooks.set(hook) }

    func hash(_ password: String) async throws -> String { try await base.hash(password) }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        try await hooks.run()
        return try await base.verify(password, against: hash)
    }

    private actor HookSlot {
        private var hook: (@Sendable () async throws -> Void)?
        func set(_ hook: @escaping @Sendable () async throws -> Void) { self.hook = hook }
        func run() async throws {
            guard let hook else { return }
            self.hook = nil
            try await hook()
        }
    }
}

@Suite("Sign-in races")
struct SignInRaceTests {
    static let email = "owner@acme.example"

    @Test(
        "parallel wrong guesses: exactly the policy's threshold are answered as wrong, every other one finds the key locked",
        arguments: [StorageKind.sqliteFile, .memory])
    func parallelGuesses(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld(contractors: 0)
        let codes = await withTaskGroup(of: TradesKitError.Code?.self) { group in
            for index in 0..<20 {
                group.addTask {
                    do {
                        _ = try await t.market.identity.login(in: world.tenant.id, email: Self.email, password: "guess \(index)")
                        return nil
                    } catch {
                        return (error as? TradesKitError)?.code
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let threshold = LockoutPolicy().threshold
        #expect(codes.filter { $0 == .unauthenticated }.count == threshold, "\(codes)")
        #expect(codes.filter { $0 == .accountLocked }.count == 20 - threshold, "\(codes)")
    }

    @Test(
        "the right password, checked while another server's failures lock the key, is answered like a wrong one",
        arguments: [StorageKind.sqliteFile, .memory])
    func lockedByAnotherServer(_ kind: StorageKind) async throws {
        let t = try TestMarket(kind)
        defer { t.cleanup() }
        let world = try await t.makeWorld(contractors: 0)
        // Two marketplaces on one database are two servers, each with its own sign-in gate.
        let hasher = PausingHasher()
        let other = Marketplace(storage: t.storage, payments: MemoryPaymentProcessor(), passwordHasher: hasher, clock: t.clock)
        await hasher.beforeNextVerify {
            for _ in 0..<LockoutPolicy().threshold {
                _ = try? await t.market.identity.login(in: world.tenant.id, email: Self.email, password: "wrong guess")
            }
        }
        // Had it answered "locked" while the concurrent wrong guesses got "wrong", the difference would name the password.
        await expectError(.unauthenticated) { try await other.identity.login(in: world.tenant.id, email: Self.email, password: TestMarket.password) }
        await expectError(.accountLocked) { try await other.identity.login(in: world.tenant.id, email: Self.email, password: TestMarket.password) }
    }
}
