import Foundation
import TradesKit

/// The API's form of a page cursor: `<milliseconds>_<uuid>`, the sort key and tie-breaker of the last item.
///
/// Every string of this shape is a valid position (pointing past the end just gives an empty page), so the OpenAPI
/// pattern describes exactly the cursors the server accepts.
enum APICursor {
    /// The pattern of a cursor.
    static let pattern = "^[0-9]{1,15}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

    static func string(_ cursor: PageCursor) -> String { "\(cursor.milliseconds)_\(cursor.id.lowercasedString)" }

    static func parse(_ text: String) -> PageCursor? {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        // 15 digits keep the milliseconds exact through `Date` (about 31,000 years).
        guard parts.count == 2, (1...15).contains(parts[0].count), parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
            let milliseconds = Int64(parts[0]), let id = UUID(uuidString: String(parts[1]))
        else { return nil }
        return PageCursor(after: Date(millisecondsSince1970: milliseconds), id: id)
    }
}
