import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import TradesKit

/// What one request of `trades bench http` is, for latency by kind and for telling reads from logins.
enum HTTPBenchRequestKind: String, CaseIterable, Sendable, Codable {
    case hello, oneRead, searchJobs, jobDetail, listBids, submitBid, listMessages, postMessage, login

    /// Whether it only reads (the latency the login storm watches).
    var isRead: Bool {
        switch self {
        case .hello, .oneRead, .searchJobs, .jobDetail, .listBids, .listMessages: true
        case .submitBid, .postMessage, .login: false
        }
    }
}

/// One request ready to write.
struct HTTPBenchRequest {
    let kind: HTTPBenchRequestKind
    let head: HTTPRequestHead
    let body: ByteBuffer?
}

/// Which request a connection sends next, from the connection's index and how many it has sent: deterministic, so two
/// runs send the same mix in the same order.
struct HTTPBenchWorkload: Sendable {
    let name: String
    private let make: @Sendable (_ connection: Int, _ sequence: Int) -> HTTPBenchRequest

    func request(connection: Int, sequence: Int) -> HTTPBenchRequest { make(connection, sequence) }

    /// `GET /v1/bench/hello`: the framework and middleware floor.
    static func hello(host: String) -> HTTPBenchWorkload {
        let builder = RequestBuilder(host: host)
        let head = builder.head(.GET, BenchmarkRoute.helloPath, token: nil)
        return HTTPBenchWorkload(name: "hello") { _, _ in HTTPBenchRequest(kind: .hello, head: head, body: nil) }
    }

    /// `GET /v1/bench/read` of the fixture's tenant: hello world's path plus the tenant (cached) and one storage read, the
    /// least a database-backed request does. No mix of API requests can be cheaper.
    static func oneRead(host: String) -> HTTPBenchWorkload {
        let builder = RequestBuilder(host: host)
        let head = builder.head(.GET, BenchmarkRoute.readPath, token: nil, tenant: HTTPBenchFixture.tenantSlug)
        return HTTPBenchWorkload(name: "one read") { _, _ in HTTPBenchRequest(kind: .oneRead, head: head, body: nil) }
    }

    /// The marketplace mix, in twentieths: search 6, job detail 5, list bids 3, submit bid 2, read a thread 3, post a message 1.
    static func mix(_ fixture: HTTPBenchFixture, host: String, bids: BidAllocator) -> HTTPBenchWorkload {
        let slots = mixSlots
        let builder = RequestBuilder(host: host)
        return HTTPBenchWorkload(name: "mix") { connection, sequence in
            // Stride through the slots so that neighbouring connections are not in step.
            let kind = slots[(connection &* 7 &+ sequence) % slots.count]
            return builder.request(kind, fixture, connection: connection, sequence: sequence, bids: bids)
        }
    }

    /// One kind of the mix alone, for what each costs (`--by-kind`).
    static func only(_ kind: HTTPBenchRequestKind, _ fixture: HTTPBenchFixture, host: String, bids: BidAllocator) -> HTTPBenchWorkload {
        let builder = RequestBuilder(host: host)
        return HTTPBenchWorkload(name: kind.rawValue) { connection, sequence in
            builder.request(kind, fixture, connection: connection, sequence: sequence, bids: bids)
        }
    }

    /// The mix in twentieths, in the order a connection walks them.
    static let mixSlots: [HTTPBenchRequestKind] =
        Array(repeating: .searchJobs, count: 6) + Array(repeating: .jobDetail, count: 5) + Array(repeating: .listBids, count: 3)
        + Array(repeating: .submitBid, count: 2) + Array(repeating: .listMessages, count: 3) + [.postMessage]

    /// What a new bid and a new message say.
    static let bidBody = #"{"amount":{"amount":25000,"currency":"USD"},"message":"I can start on Monday."}"#
    static let messageBody = #"{"body":"Could you also look at the boiler while you are here?"}"#

    /// The kinds of request the mix sends.
    static let mixKinds: [HTTPBenchRequestKind] = [.searchJobs, .jobDetail, .listBids, .submitBid, .listMessages, .postMessage]

    /// Reads only (search 6, job detail 5, list bids 3, read a thread 3): what the login storm's readers send.
    static func reads(_ fixture: HTTPBenchFixture, host: String) -> HTTPBenchWorkload {
        let slots: [HTTPBenchRequestKind] =
            Array(repeating: .searchJobs, count: 6) + Array(repeating: .jobDetail, count: 5) + Array(repeating: .listBids, count: 3)
            + Array(repeating: .listMessages, count: 3)
        let builder = RequestBuilder(host: host)
        return HTTPBenchWorkload(name: "reads") { connection, sequence in
            builder.request(slots[(connection &* 7 &+ sequence) % slots.count], fixture, connection: connection, sequence: sequence, bids: nil)
        }
    }

    /// The first `logins` connections log in over and over (each as its own user, with the right password); the others read.
    static func loginStorm(_ fixture: HTTPBenchFixture, host: String, logins: Int) -> HTTPBenchWorkload {
        let reads = reads(fixture, host: host)
        let builder = RequestBuilder(host: host)
        let bodies = fixture.loginEmails.map { email in
            ByteBuffer(string: #"{"email":"\#(email)","password":"\#(HTTPBenchFixture.loginPassword)"}"#)
        }
        return HTTPBenchWorkload(name: "login storm") { connection, sequence in
            guard connection < logins, !bodies.isEmpty else { return reads.request(connection: connection, sequence: sequence) }
            let body = bodies[connection % bodies.count]
            return HTTPBenchRequest(
                kind: .login, head: builder.head(.POST, "/v1/auth/login", token: nil, tenant: HTTPBenchFixture.tenantSlug, body: body), body: body)
        }
    }
}

/// The paths of the baseline routes (the server's `BenchmarkRoutes`, which is internal to it).
enum BenchmarkRoute {
    static let helloPath = "/v1/bench/hello"
    static let readPath = "/v1/bench/read"
}

/// Hands out (contractor, job) pairs for new bids, each once: a contractor may have one live bid per job, so a repeat
/// would be refused with 409. Past ``capacity`` pairs repeat, and the refusals count as errors.
final class BidAllocator: Sendable {
    let contractors: Int
    let targets: Int
    private let next = NIOLockedValueBox(0)

    init(contractors: Int, targets: Int) {
        self.contractors = contractors
        self.targets = targets
    }

    var capacity: Int { contractors * targets }
    var handedOut: Int { next.withLockedValue { $0 } }

    /// Skips `count` pairs (taken by another generator, wrk, from ``handedOut`` on).
    func advance(by count: Int) {
        next.withLockedValue { $0 += count }
    }

    func pair() -> (contractor: Int, target: Int) {
        let index = next.withLockedValue { value in
            defer { value += 1 }
            return value
        }
        let slot = index % max(1, capacity)
        // Consecutive bids go to different jobs, so no job collects them all.
        return (contractor: slot / max(1, targets), target: slot % max(1, targets))
    }
}

/// Request heads and bodies for the fixture's users and jobs.
private struct RequestBuilder: Sendable {
    let host: String

    func head(_ method: HTTPMethod, _ uri: String, token: String?, tenant: String? = nil, body: ByteBuffer? = nil) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let tenant { headers.add(name: "X-Tenant", value: tenant) }
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.readableBytes))
        }
        return HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)
    }

    func request(
        _ kind: HTTPBenchRequestKind, _ fixture: HTTPBenchFixture, connection: Int, sequence: Int, bids: BidAllocator?
    ) -> HTTPBenchRequest {
        let spread = connection &* 31 &+ sequence &* 17
        let contractor = fixture.contractorTokens[spread % fixture.contractorTokens.count]
        let openJob = fixture.openJobs[spread % fixture.openJobs.count].uuidString.lowercased()
        let awardedJob = fixture.awardedJobs[spread % fixture.awardedJobs.count].uuidString.lowercased()
        switch kind {
        case .hello:
            return HTTPBenchRequest(kind: kind, head: head(.GET, BenchmarkRoute.helloPath, token: nil), body: nil)
        case .oneRead:
            return HTTPBenchRequest(kind: kind, head: head(.GET, BenchmarkRoute.readPath, token: nil, tenant: HTTPBenchFixture.tenantSlug), body: nil)
        case .searchJobs:
            return HTTPBenchRequest(kind: kind, head: head(.GET, "/v1/jobs?status=open&limit=20", token: contractor), body: nil)
        case .jobDetail:
            return HTTPBenchRequest(kind: kind, head: head(.GET, "/v1/jobs/\(openJob)", token: contractor), body: nil)
        case .listBids:
            return HTTPBenchRequest(kind: kind, head: head(.GET, "/v1/jobs/\(openJob)/bids", token: fixture.homeownerToken), body: nil)
        case .submitBid:
            let pair = bids?.pair() ?? (contractor: 0, target: 0)
            let job = fixture.bidTargets[pair.target % fixture.bidTargets.count].uuidString.lowercased()
            let body = ByteBuffer(string: HTTPBenchWorkload.bidBody)
            return HTTPBenchRequest(
                kind: kind,
                head: head(
                    .POST, "/v1/jobs/\(job)/bids", token: fixture.contractorTokens[pair.contractor % fixture.contractorTokens.count], body: body),
                body: body)
        case .listMessages:
            return HTTPBenchRequest(kind: kind, head: head(.GET, "/v1/jobs/\(awardedJob)/messages", token: fixture.homeownerToken), body: nil)
        case .postMessage:
            let body = ByteBuffer(string: HTTPBenchWorkload.messageBody)
            return HTTPBenchRequest(
                kind: kind, head: head(.POST, "/v1/jobs/\(awardedJob)/messages", token: fixture.homeownerToken, body: body), body: body)
        case .login:
            preconditionFailure("logins are made by HTTPBenchWorkload.loginStorm")
        }
    }
}
