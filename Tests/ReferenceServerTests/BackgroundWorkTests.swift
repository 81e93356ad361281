import Logging
@testable import ReferenceServer
import ServiceLifecycle
import NIOConcurrencyHelpers
import Testing

@Suite("Work that outlives its request")
struct BackgroundWorkTests {
    @Test("A graceful shutdown waits for work a request started (the password-reset e-mail), then ends")
    func gracefulShutdownDrains() async throws {
        let work = BackgroundWork()
        let (gate, open) = AsyncStream<Void>.makeStream()
        let sent = NIOLockedValueBox(false)
        work.start {
            for await _ in gate {}
            sent.withLockedValue { $0 = true }
        }
        let group = ServiceGroup(configuration: .init(services: [work], logger: Logger(label: "test")))
        let stopped = NIOLockedValueBox(false)
        let running = Task {
            try await group.run()
            stopped.withLockedValue { $0 = true }
        }
        await group.triggerGracefulShutdown()
        try await Task.sleep(for: .milliseconds(200))
        #expect(!stopped.withLockedValue { $0 }, "the group stopped while the e-mail was still being sent")
        #expect(work.running == 1)

        open.finish()
        try await running.value
        #expect(sent.withLockedValue { $0 }, "the group stopped before the work finished")
        #expect(work.running == 0)
    }

    @Test("With nothing started, a graceful shutdown ends at once; drained() returns at once")
    func idle() async throws {
        let work = BackgroundWork()
        await work.drained()
        let group = ServiceGroup(configuration: .init(services: [work], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(work.running == 0)
    }
}
