import Crypto
import Foundation
import HTTPTypes
import NIOConcurrencyHelpers
public import TradesKit

/// In-memory fixed-window rate limits, keyed by any string (`ip:…`, `user:…`, `login:…`), on an injected clock.
///
/// Fixed windows are cheap and predictable: a key may make `limit` requests from the start of its window until the
/// window ends. Counters live in this process only; a server behind a load balancer limits per instance.
///
/// Memory is bounded whatever clients send: keys are held as SHA-256 digests (a key built from a long e-mail address
/// costs what a short one does), and at most `maximumKeys` windows are kept. Past that, ended windows go first, then
/// the windows that started longest ago (as nginx's `limit_req` drops its least recently used states), down to three
/// quarters of the bound so that eviction stays rare.
public final class RateLimiter: Sendable {
    /// The outcome of one request against one limit.
    public struct Decision: Sendable, Hashable {
        /// Whether the request may go ahead.
        public let allowed: Bool
        /// The limit of the window.
        public let limit: Int
        /// Requests left in the window after this one.
        public let remaining: Int
        /// Whole seconds until the window resets (at least 1).
        public let resetSeconds: Int64
    }

    private struct Window {
        var start: Date
        var length: TimeInterval
        var count: Int

        func hasEnded(at now: Date) -> Bool { now.timeIntervalSince(start) >= length }
    }

    private struct State {
        var windows: [SHA256.Digest: Window] = [:]
        /// The key count above which ended windows are swept on the next request.
        var sweepAbove: Int
    }

    private let clock: any WallClock
    private let state: NIOLockedValueBox<State>
    private let sweepThreshold: Int
    private let maximumKeys: Int

    /// Creates a limiter reading time from `clock`. Ended windows are swept once more than `sweepThreshold` keys are
    /// held, and then again only when the count has doubled, so sweeping costs O(1) per request amortised even when
    /// every window is live; never more than `maximumKeys` windows are held (about 100 bytes each).
    public init(clock: any WallClock, sweepThreshold: Int = 10_000, maximumKeys: Int = 250_000) {
        self.clock = clock
        self.maximumKeys = max(4, maximumKeys)
        self.sweepThreshold = min(sweepThreshold, self.maximumKeys)
        self.state = NIOLockedValueBox(State(sweepAbove: self.sweepThreshold))
    }

    /// How many windows are held.
    var keyCount: Int { state.withLockedValue { $0.windows.count } }

    /// Counts one request for `key` against `limit` per `windowSeconds`; a refused request is not counted.
    public func consume(_ key: String, limit: Int, windowSeconds: Int64) -> Decision {
        let now = clock.now()
        let length = TimeInterval(max(1, windowSeconds))
        let key = SHA256.hash(data: Array(key.utf8))
        return state.withLockedValue { state in
            if state.windows.count >= state.sweepAbove, state.windows[key] == nil {
                // Each window by its own length: keys of tenants with longer windows keep their counts.
                state.windows = state.windows.filter { !$0.value.hasEnded(at: now) }
                if state.windows.count >= maximumKeys {
                    let kept = maximumKeys * 3 / 4
                    let oldest = state.windows.sorted { $0.value.start < $1.value.start }.prefix(state.windows.count - kept)
                    for (evicted, _) in oldest { state.windows[evicted] = nil }
                }
                state.sweepAbove = min(maximumKeys, max(sweepThreshold, state.windows.count * 2))
            }
            var window = state.windows[key] ?? Window(start: now, length: length, count: 0)
            window.length = length
            if window.hasEnded(at: now) { window = Window(start: now, length: length, count: 0) }
            let reset = max(1, Int64((window.start.addingTimeInterval(length).timeIntervalSince(now)).rounded(.up)))
            guard window.count < limit else {
                state.windows[key] = window
                return Decision(allowed: false, limit: limit, remaining: 0, resetSeconds: reset)
            }
            window.count += 1
            state.windows[key] = window
            return Decision(allowed: true, limit: limit, remaining: max(0, limit - window.count), resetSeconds: reset)
        }
    }

    /// Counts one request and throws ``ServerError/Code/rateLimited`` with `Retry-After` and `RateLimit-*` headers
    /// when the limit is reached.
    func enforce(_ key: String, limit: Int, windowSeconds: Int64) throws {
        let decision = consume(key, limit: limit, windowSeconds: windowSeconds)
        guard !decision.allowed else { return }
        throw ServerError(.rateLimited, "Too many requests; try again in \(decision.resetSeconds) seconds", headers: decision.headers)
    }
}

extension RateLimiter.Decision {
    /// `Retry-After` (when refused) and the `RateLimit-Limit/Remaining/Reset` headers of the IETF draft.
    var headers: HTTPFields {
        var headers = HTTPFields()
        if !allowed { headers[.retryAfter] = String(resetSeconds) }
        headers[HTTPField.Name.rateLimitLimit] = String(limit)
        headers[HTTPField.Name.rateLimitRemaining] = String(remaining)
        headers[HTTPField.Name.rateLimitReset] = String(resetSeconds)
        return headers
    }
}
