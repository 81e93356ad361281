import Foundation
import HTTPTypes
import JWTKit

/// The claims of an access token: `iss`, `aud`, `exp`, `iat`, `sub` (user id), `tid` (tenant id), `role` and `sgn` (the
/// user's session generation when it was issued, see ``TradesKit/User/sessionGeneration``).
struct AccessTokenClaims: JWTPayload, Equatable {
    var iss: IssuerClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var sub: SubjectClaim
    var tid: String
    var role: String
    var sgn: Int64

    /// Every claim is checked by ``TokenAuthority`` against its injected clock and configuration, after jwt-kit has
    /// checked the signature; nothing here depends on the key.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
