import Foundation
import HTTPTypes
import NIOConcurrencyHelpers
import TradesKit

/// What inner layers learn about a request that outer middleware (the access log) reports after it is answered.
///
/// Request contexts are values passed down the chain, so a change made inside is not seen outside; this box is shared.
final class RequestTrace: Sendable {
    private let tenant = NIOLockedValueBox<TenantID?>(nil)

    /// The tenant the request was resolved to, if any.
    var tenantID: TenantID? {
        get { tenant.withLockedValue { $0 } }
        set { tenant.withLockedValue { $0 = newValue } }
    }
}
