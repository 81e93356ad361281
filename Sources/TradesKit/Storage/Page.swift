public import Foundation

/// One page of a listing and where the next one starts.
public struct Page<Item: Sendable>: Sendable {
    /// The items of this page.
    public var items: [Item]
    /// Pass this to get the next page; `nil` on the last page.
    public var nextCursor: PageCursor?

    /// Creates a page.
    public init(items: [Item], nextCursor: PageCursor?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

extension Page: Equatable where Item: Equatable {}

/// A keyset position: the sort key (a timestamp) and the id of the last item seen.
///
/// Keyset pagination is stable under inserts: a row added while a client pages never shifts or repeats items.
public struct PageCursor: Sendable, Hashable, Codable {
    /// The sort timestamp of the last item, in milliseconds.
    public let milliseconds: Int64
    /// The id of the last item, the tie-breaker.
    public let id: UUID

    /// Creates a cursor after an item.
    public init(after date: Date, id: UUID) {
        self.milliseconds = date.millisecondsSince1970
        self.id = id
    }

    /// The opaque string form for clients.
    public var token: String {
        let raw = "\(milliseconds)_\(id.lowercasedString)"
        return Data(raw.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Parses a client's token.
    public init(token: String) throws(TradesKitError) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        let invalid = TradesKitError.validation([FieldError(field: "cursor", code: "invalid_format", message: "is not a cursor from this API")])
        guard token.count <= 100, let data = Data(base64Encoded: base64), let raw = String(data: data, encoding: .utf8) else { throw invalid }
        let parts = raw.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, let milliseconds = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { throw invalid }
        self.milliseconds = milliseconds
        self.id = id
    }
}

/// A page size and a starting point.
public struct PageRequest: Sendable, Hashable {
    /// Where the previous page ended; `nil` for the first page.
    public var cursor: PageCursor?
    /// How many items at most, 1…100: any other value set is clamped into that range, so no storage ever sees one.
    public var limit: Int {
        didSet { limit = Self.clamped(limit) }
    }

    /// Creates a request; `limit` is clamped to 1…100.
    public init(cursor: PageCursor? = nil, limit: Int = 50) {
        self.cursor = cursor
        self.limit = Self.clamped(limit)
    }

    private static func clamped(_ limit: Int) -> Int { min(100, max(1, limit)) }
}
