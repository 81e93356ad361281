import Dispatch
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ReferenceServer
import Testing
import TradesKit

/// The behaviour behind the benchmark's login storm: bcrypt runs on its own pool, so logins queue there while the
/// server keeps answering other requests. Deterministic: the pool's only thread is held, so the logins provably wait
/// for it while the reads are answered.
@Suite("Login storm")
struct LoginStormTests {
    /// Counts the verifications that reached the hasher, then lets bcrypt do them.
    struct CountingHasher: PasswordHasher {
        let bcrypt: BcryptPasswordHasher
        let verifying = NIOLockedValueBox(0)
        func hash(_ password: String) async throws -> String { try await bcrypt.hash(password) }
        func verify(_ password: String, against hash: String) async throws -> Bool {
            verifying.withLockedValue { $0 += 1 }
            return try await bcrypt.verify(password, against: hash)
        }
    }

    @Test("Reads are answered while logins wait for the hashing pool; the logins finish when it is free")
    func readsDuringLogins() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let hasher = CountingHasher(bcrypt: try BcryptPasswordHasher(cost: 4, threadPool: pool))
        let harness = try await TestServer(passwordHasher: hasher)
        let world = try await harness.world()
        // One login per account: logins to the same account wait for each other before the hasher (the sign-in gate).
        let accounts = [world.admin, world.owner, world.otherOwner, world.contractorA, world.contractorB, world.contractorC]
        let logins = accounts.count
        let bodies = try accounts.map {
            try JSONValue.object(["email": .string($0.email), "password": .string(TestServer.password)]).serialized()
        }
        // Hold the pool's only thread until the reads are done.
        let gate = DispatchSemaphore(value: 0)
        let holder = Task { try await pool.runIfActive { gate.wait() } }

        try await harness.server.makeApplication().test(.live) { client in
            let port = try #require(client.port)
            let loggedIn = NIOLockedValueBox(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<logins {
                    let body = bodies[index % bodies.count]
                    group.addTask {
                        try await TestClient.withClient(host: "localhost", port: port) { connection in
                            let response = try await connection.execute(
                                .init(
                                    "/v1/auth/login", method: .post, headers: [.contentType: "application/json", .tenant: "acme"],
                                    body: ByteBuffer(bytes: body)))
                            #expect(response.status == .ok)
                            loggedIn.withLockedValue { $0 += 1 }
                        }
                    }
                }
                // Every login has reached the hasher (and waits for the pool) before the reads start.
                for _ in 0..<2_000 where hasher.verifying.withLockedValue({ $0 }) < logins { try await Task.sleep(for: .milliseconds(5)) }
                #expect(hasher.verifying.withLockedValue { $0 } == logins, "the logins did not reach the hasher")
                try await TestClient.withClient(host: "localhost", port: port) { connection in
                    for path in ["/v1/categories", "/health", "/v1/categories", "/openapi.json", "/v1/categories"] {
                        let response = try await connection.execute(.init(path, method: .get, headers: [.tenant: "acme"]))
                        #expect(response.status == .ok, "\(path)")
                    }
                }
                #expect(loggedIn.withLockedValue { $0 } == 0, "a login finished while the hashing pool was held: bcrypt ran elsewhere")
                gate.signal()
                try await group.waitForAll()
            }
            #expect(loggedIn.withLockedValue { $0 } == logins)
        }
        try await holder.value
        try await pool.shutdownGracefully()
    }
}
