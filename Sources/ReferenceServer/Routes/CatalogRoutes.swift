import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import TradesKit

/// The tenant's trade categories (public within the tenant).
enum CatalogRoutes {
    static func routes() -> [Route] {
        [
            Route(
                RouteSpec(
                    .get, "/v1/categories", id: "listCategories", "The tenant's trade categories", tag: "Catalog", access: .tenant,
                    response: "CategoryList")
            ) { call in
                let categories = try await call.market.catalog.categories(in: try call.tenant().id)
                return try call.json(ListResponse(items: categories.map(CategoryResponse.init)))
            }
        ]
    }
}
