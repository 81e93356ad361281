public import Foundation
public import TradesKit

extension TOTP {
    /// A code this secret does not accept at `date`, in any step of its window: a fixed "wrong" code is right one time
    /// in a million, and a step's neighbours are accepted too.
    public func codeNotAccepted(at date: Date) -> String {
        (0...).lazy.map { String(format: "%06d", $0) }.first { acceptedStep(for: $0, at: date, after: nil) == nil }!
    }
}
