import Foundation
import HTTPTypes
import Logging
import TradesKit

/// What every route and middleware shares: the marketplace, the configuration and the server's own machinery.
struct ServerServices: Sendable {
    let market: Marketplace
    let configuration: ServerConfiguration
    let tokens: TokenAuthority
    /// Seals the cursors of lists whose items hide their time and id.
    let cursors: CursorSeal
    let tenants: TenantDirectory
    let limiter: RateLimiter
    let metrics: ServerMetrics
    let operators: OperatorAuthenticator
    /// What a scraper presents for `/metrics`, when the configuration asks for one.
    let metricsSecret: BearerSecret
    /// Work that outlives its request; a graceful shutdown waits for it.
    let background: BackgroundWork
    /// The server's clock: token times, rate-limit windows and `Retry-After`.
    let clock: any WallClock
    let logger: Logger
}
