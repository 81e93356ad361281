import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The built-in load generator of `trades bench http`: a closed loop on each of N HTTP/1.1 keep-alive connections over
/// loopback (send a request, wait for the whole answer, send the next), as wrk does, on its own SwiftNIO event loops.
///
/// A phase connects every connection first, then starts them together: a warm-up whose answers are not measured, then
/// the measured window. Throughput counts the answers that arrive inside the window (as wrk does); latency is timed from
/// the write to the last byte of the answer, for requests sent inside the window. Any answer that is not 2xx, any
/// connection error and any request still unanswered `grace` after the window are errors, warm-up included.
struct HTTPLoadGenerator: Sendable {
    let group: MultiThreadedEventLoopGroup
    let host: String
    let port: Int

    /// When a phase's parts start and end.
    struct Schedule: Sendable {
        let measureStart: NIODeadline
        let measureEnd: NIODeadline
        /// Connections still waiting for an answer then give up (a timeout error).
        let hardStop: NIODeadline
    }

    /// What one phase measured.
    struct PhaseResult: Sendable {
        var durationSeconds: Double
        var connections: Int
        var tally = ConnectionTally()

        var requestsPerSecond: Double { Double(tally.completedInWindow) / durationSeconds }
        var errors: Int { tally.errors.values.reduce(0, +) }

        /// Latencies in milliseconds of the kinds that `include` accepts.
        func latencies(_ include: (HTTPBenchRequestKind) -> Bool = { _ in true }) -> [Double] {
            tally.latencies.filter { include($0.key) }.values.flatMap { $0 }
        }

        /// Answers per second inside the window of the kinds that `include` accepts.
        func rate(_ include: (HTTPBenchRequestKind) -> Bool) -> Double {
            Double(tally.completedByKind.filter { include($0.key) }.values.reduce(0, +)) / durationSeconds
        }
    }

    /// Runs `workload` on `connections` connections: `warmup` seconds unmeasured, then `duration` seconds measured.
    func run(_ workload: HTTPBenchWorkload, connections: Int, warmup: Double, duration: Double, grace: Double = 30) async throws -> PhaseResult {
        var channels: [any Channel] = []
        var results: [EventLoopFuture<ConnectionTally>] = []
        channels.reserveCapacity(connections)
        // A listen backlog is a few hundred: connect in batches rather than all at once.
        let batch = 100
        do {
            for start in stride(from: 0, to: connections, by: batch) {
                try await withThrowingTaskGroup(of: (any Channel, EventLoopFuture<ConnectionTally>).self) { tasks in
                    for index in start..<min(connections, start + batch) {
                        tasks.addTask { try await connect(index: index, workload: workload) }
                    }
                    for try await (channel, result) in tasks {
                        channels.append(channel)
                        results.append(result)
                    }
                }
            }
        } catch {
            for channel in channels { channel.close(promise: nil) }
            throw HTTPBenchError("could not open \(connections) connections to \(host):\(port) (\(channels.count) open): \(error)")
        }

        let now = NIODeadline.now()
        let measureStart = now + .nanoseconds(Int64(warmup * 1e9))
        let measureEnd = measureStart + .nanoseconds(Int64(duration * 1e9))
        let schedule = Schedule(measureStart: measureStart, measureEnd: measureEnd, hardStop: measureEnd + .nanoseconds(Int64(grace * 1e9)))
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(StartEvent(schedule: schedule)) }

        var phase = PhaseResult(durationSeconds: duration, connections: connections)
        for result in results { phase.tally.merge(try await result.get()) }
        return phase
    }

    private func connect(index: Int, workload: HTTPBenchWorkload) async throws -> (any Channel, EventLoopFuture<ConnectionTally>) {
        let loop = group.next()
        let promise = loop.makePromise(of: ConnectionTally.self)
        let bootstrap = ClientBootstrap(group: loop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTPLoadConnection(index: index, workload: workload, result: promise))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            return (channel, promise.futureResult)
        } catch {
            promise.fail(error)
            throw error
        }
    }
}

/// Starts a connected connection's loop.
struct StartEvent: Sendable {
    let schedule: HTTPLoadGenerator.Schedule
}

/// What one connection saw.
struct ConnectionTally: Sendable {
    /// Latencies in milliseconds by kind, of requests sent in the measured window.
    var latencies: [HTTPBenchRequestKind: [Double]] = [:]
    /// Successful answers that arrived inside the window, by kind.
    var completedByKind: [HTTPBenchRequestKind: Int] = [:]
    /// Successful answers in the whole phase, warm-up and drain included (what the server's CPU time is divided by).
    var answered = 0
    /// Errors by a short description (`submitBid 409`, `timeout`…).
    var errors: [String: Int] = [:]

    var completedInWindow: Int { completedByKind.values.reduce(0, +) }

    mutating func merge(_ other: ConnectionTally) {
        latencies.merge(other.latencies) { $0 + $1 }
        completedByKind.merge(other.completedByKind, uniquingKeysWith: +)
        answered += other.answered
        errors.merge(other.errors, uniquingKeysWith: +)
    }
}

/// One keep-alive connection's closed loop.
private final class HTTPLoadConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let index: Int
    private let workload: HTTPBenchWorkload
    private let result: EventLoopPromise<ConnectionTally>
    private var tally = ConnectionTally()
    private var schedule: HTTPLoadGenerator.Schedule?
    private var sequence = 0
    private var inFlight: (kind: HTTPBenchRequestKind, sentAt: NIODeadline)?
    private var status: HTTPResponseStatus = .ok
    private var closing = false
    private var hardStop: Scheduled<Void>?

    init(index: Int, workload: HTTPBenchWorkload, result: EventLoopPromise<ConnectionTally>) {
        self.index = index
        self.workload = workload
        self.result = result
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let start = event as? StartEvent else { return context.fireUserInboundEventTriggered(event) }
        schedule = start.schedule
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        hardStop = context.eventLoop.scheduleTask(deadline: start.schedule.hardStop) {
            let (handler, context) = loopBound.value
            handler.giveUp(context)
        }
        send(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = head.status
        case .body: break
        case .end: answered(context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        record(error: "connection error: \(error)")
        close(context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let inFlight, !closing { record(error: "\(inFlight.kind.rawValue): connection closed by the server") }
        inFlight = nil
        result.succeed(tally)
        context.fireChannelInactive()
    }

    private func send(_ context: ChannelHandlerContext) {
        let request = workload.request(connection: index, sequence: sequence)
        sequence += 1
        inFlight = (request.kind, NIODeadline.now())
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let body = request.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func answered(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        guard let (kind, sentAt) = inFlight, let schedule else { return }
        inFlight = nil
        if (200..<300).contains(status.code) {
            tally.answered += 1
            if sentAt >= schedule.measureStart { tally.latencies[kind, default: []].append(Double((now - sentAt).nanoseconds) / 1e6) }
            if now >= schedule.measureStart, now <= schedule.measureEnd { tally.completedByKind[kind, default: 0] += 1 }
        } else {
            record(error: "\(kind.rawValue) \(status.code)")
        }
        if now < schedule.measureEnd { send(context) } else { close(context) }
    }

    /// The hard stop: a request still unanswered is a timeout.
    fileprivate func giveUp(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        if let inFlight { record(error: "\(inFlight.kind.rawValue): no answer within the grace period") }
        inFlight = nil
        close(context)
    }

    private func record(error: String) {
        tally.errors[error, default: 0] += 1
    }

    private func close(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        hardStop?.cancel()
        context.close(promise: nil)
    }
}

/// A failure of the benchmark itself (not of a request under load).
struct HTTPBenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
