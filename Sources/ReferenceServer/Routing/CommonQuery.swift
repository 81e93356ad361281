import Foundation
import HTTPTypes

/// Query parameters shared by list routes.
enum CommonQuery {
    /// `cursor`: where the previous page ended.
    static let cursor = QueryParameter(
        "cursor", "The `nextCursor` of the previous page.", schema: ["type": "string", "pattern": .string(APICursor.pattern)])
    /// `cursor` of a list whose cursors are sealed (``CursorSeal``).
    static let sealedCursor = QueryParameter(
        "cursor", "The `nextCursor` of the previous page (opaque).", schema: ["type": "string", "pattern": .string(CursorSeal.pattern)])
    /// `limit`: the page size.
    static let limit = QueryParameter("limit", "Items per page, 1–100.", schema: ["type": "integer", "minimum": 1, "maximum": 100])
}
