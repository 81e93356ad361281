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

    @Test("When the grace period is over, the work still running is cancelled and the group ends")
    func gracePeriodCancels() async throws {
        let work = BackgroundWork()
        let cancelled = NIOLockedValueBox(false)
        // Work that would run for a minute unless cancelled (a provider that does not answer).
        work.start {
            do { try await Task.sleep(for: .seconds(60)) } catch { cancelled.withLockedValue { $0 = true } }
        }
        var configuration = ServiceGroupConfiguration(services: [work], logger: Logger(label: "test"))
        configuration.maximumGracefulShutdownDuration = .milliseconds(200)
        let group = ServiceGroup(configuration: configuration)
        let running = Task { try await group.run() }
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        // The group ended with the work unfinished: the work saw its cancellation rather than running its minute out
        // (no clock is read, as a loaded machine may delay the grace period's timer by seconds).
        for _ in 0..<1_000 where work.running > 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(work.running == 0)
        #expect(cancelled.withLockedValue { $0 }, "the group waited for the work past its grace period")
    }

    @Test("A cancelled wait cancels the work and returns; later waits return at once")
    func cancelledWait() async throws {
        let work = BackgroundWork()
        let (gate, _) = AsyncStream<Void>.makeStream()
        work.start { for await _ in gate {} }  // ends only when cancelled
        let waiting = Task { await work.drained() }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        await waiting.value
        for _ in 0..<1_000 where work.running > 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(work.running == 0)
        await work.drained()
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
