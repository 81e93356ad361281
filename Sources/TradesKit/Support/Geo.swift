import Foundation

/// A point on Earth in decimal degrees (WGS 84).
public struct GeoPoint: Sendable, Hashable, Codable {
    /// Latitude, −90…90.
    public var latitude: Double
    /// Longitude, −180…180.
    public var longitude: Double

    /// Creates a point.
    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }

    /// Mean Earth radius used for distances.
    public static let earthRadiusKm = 6371.0088

    /// Great-circle distance in kilometres (haversine).
    public func distanceKm(to other: GeoPoint) -> Double {
        GeoPoint.haversineKm(latitude, longitude, other.latitude, other.longitude)
    }

    /// Haversine distance between two coordinate pairs, in kilometres. Storages register this as a SQL function.
    public static func haversineKm(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let radians = Double.pi / 180
        let dLat = (lat2 - lat1) * radians
        let dLon = (lon2 - lon1) * radians
        let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * radians) * cos(lat2 * radians) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * earthRadiusKm * asin(min(1, sqrt(a)))
    }
}

/// A circle on Earth: a centre and a radius in kilometres.
public struct GeoCircle: Sendable, Hashable, Codable {
    /// The centre.
    public var center: GeoPoint
    /// The radius in kilometres.
    public var radiusKm: Double

    /// Creates a circle.
    public init(center: GeoPoint, radiusKm: Double) {
        self.center = center
        self.radiusKm = radiusKm
    }

    /// Whether `point` lies inside or on the circle.
    public func contains(_ point: GeoPoint) -> Bool { center.distanceKm(to: point) <= radiusKm }

    /// A latitude/longitude box that contains the circle: a cheap index-friendly prefilter before the exact distance.
    public var boundingBox: (minLatitude: Double, maxLatitude: Double, minLongitude: Double, maxLongitude: Double) {
        let latDelta = radiusKm / 111.0
        let minLat = max(-90, center.latitude - latDelta)
        let maxLat = min(90, center.latitude + latDelta)
        let cosLat = cos(max(abs(minLat), abs(maxLat)) * .pi / 180)
        // Near the poles, or for huge radii, the box spans every longitude.
        guard cosLat > 0.01 else { return (minLat, maxLat, -180, 180) }
        let lonDelta = radiusKm / (111.0 * cosLat)
        // A box that would cross the antimeridian is widened to every longitude rather than split in two.
        if lonDelta >= 180 || center.longitude - lonDelta < -180 || center.longitude + lonDelta > 180 {
            return (minLat, maxLat, -180, 180)
        }
        return (minLat, maxLat, center.longitude - lonDelta, center.longitude + lonDelta)
    }
}
