/// A trade (plumbing, roofing…) that jobs are posted under and contractors work in. Copied per tenant.
public struct TradeCategory: Sendable, Hashable, Codable, Identifiable {
    /// The category's id (per tenant).
    public let id: CategoryID
    /// A URL-safe unique name, e.g. `plumbing`.
    public var slug: String
    /// The display name.
    public var name: String

    /// Creates a category.
    public init(id: CategoryID, slug: String, name: String) {
        self.id = id
        self.slug = slug
        self.name = name
    }
}

/// The default trade catalogue that every new tenant starts with.
public enum DefaultCatalogue {
    /// `(slug, name)` pairs of common residential trades.
    public static let trades: [(slug: String, name: String)] = [
        ("plumbing", "Plumbing"), ("electrical", "Electrical"), ("hvac", "Heating, Ventilation & Air Conditioning"),
        ("roofing", "Roofing"), ("carpentry", "Carpentry"), ("painting", "Painting & Decorating"),
        ("plastering", "Plastering & Drywall"), ("tiling", "Tiling"), ("flooring", "Flooring"),
        ("landscaping", "Landscaping & Gardening"), ("masonry", "Masonry & Bricklaying"), ("concrete", "Concrete"),
        ("fencing", "Fencing"), ("glazing", "Windows & Glazing"), ("locksmith", "Locksmith"),
        ("pest-control", "Pest Control"), ("cleaning", "Cleaning"), ("appliance-repair", "Appliance Repair"),
        ("handyman", "Handyman"), ("insulation", "Insulation"), ("solar", "Solar Installation"),
        ("gutters", "Gutters"), ("kitchen-fitting", "Kitchen Fitting"), ("bathroom-fitting", "Bathroom Fitting"),
        ("demolition", "Demolition"), ("pool-services", "Pool Services"),
    ]
}
