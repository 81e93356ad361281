import Foundation

extension String {
    /// The text with every UUID (either case) replaced by `<id>`: a check that a number never appears in an answer
    /// must not trip over the random hex digits of the ids the answer carries.
    public var withoutUUIDs: String {
        replacingOccurrences(
            of: "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}", with: "<id>", options: .regularExpression)
    }
}
