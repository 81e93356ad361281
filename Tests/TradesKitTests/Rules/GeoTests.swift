import Foundation
import Testing
import TradesKit

/// The point `distanceKm` from `start` along `bearing` (degrees), on the same sphere as the core, longitude normalised to −180…180.
private func destination(from start: GeoPoint, distanceKm: Double, bearing: Double) -> GeoPoint {
    let radians = Double.pi / 180
    let delta = distanceKm / GeoPoint.earthRadiusKm
    let phi1 = start.latitude * radians
    let lambda1 = start.longitude * radians
    let theta = bearing * radians
    let phi2 = asin(sin(phi1) * cos(delta) + cos(phi1) * sin(delta) * cos(theta))
    let lambda2 = lambda1 + atan2(sin(theta) * sin(delta) * cos(phi1), cos(delta) - sin(phi1) * sin(phi2))
    var longitude = (lambda2 / radians).truncatingRemainder(dividingBy: 360)
    if longitude > 180 { longitude -= 360 }
    if longitude < -180 { longitude += 360 }
    return GeoPoint(latitude: phi2 / radians, longitude: longitude)
}

@Suite("Geo")
struct GeoTests {
    static let london = GeoPoint(latitude: 51.5074, longitude: -0.1278)
    static let paris = GeoPoint(latitude: 48.8566, longitude: 2.3522)

    @Test func londonToParis() {
        let distance = Self.london.distanceKm(to: Self.paris)
        #expect(abs(distance - 343.5) <= 1, "got \(distance)")
        #expect(distance == Self.paris.distanceKm(to: Self.london))
    }

    @Test func samePointIsZero() {
        #expect(Self.london.distanceKm(to: Self.london) == 0)
        #expect(GeoPoint(latitude: 90, longitude: 0).distanceKm(to: GeoPoint(latitude: 90, longitude: 120)) < 1e-9)
    }

    @Test(
        "Antipodes are half the circumference",
        arguments: [(0.0, 0.0), (51.5, -0.12), (-33.9, 151.2), (90, 0), (10, 179.9)])
    func antipodes(latitude: Double, longitude: Double) {
        let point = GeoPoint(latitude: latitude, longitude: longitude)
        let antipode = GeoPoint(latitude: -latitude, longitude: longitude > 0 ? longitude - 180 : longitude + 180)
        let distance = point.distanceKm(to: antipode)
        #expect(abs(distance - 20_015) <= 5, "got \(distance)")
    }

    @Test func acrossTheAntimeridianIsShort() {
        let west = GeoPoint(latitude: 0, longitude: 179.5)
        let east = GeoPoint(latitude: 0, longitude: -179.5)
        #expect(abs(west.distanceKm(to: east) - 111.2) < 0.5)
    }

    @Test func circleContainsItsBoundary() {
        let distance = Self.london.distanceKm(to: Self.paris)
        #expect(GeoCircle(center: Self.london, radiusKm: distance).contains(Self.paris))
        #expect(!GeoCircle(center: Self.london, radiusKm: distance.nextDown).contains(Self.paris))
        #expect(GeoCircle(center: Self.london, radiusKm: 0).contains(Self.london))
        #expect(!GeoCircle(center: Self.london, radiusKm: 300).contains(Self.paris))
    }

    @Test(
        "The bounding box contains every point on the circle's edge",
        arguments: [
            (51.5, -0.12, 25.0), (0, 0, 500), (-33.9, 151.2, 100), (60, 10, 2_500), (89.9, 45, 5), (-89.5, -120, 80),
            (88, 0, 150), (85, 100, 300), (0, 179.9, 50), (10, -179.95, 20), (-45, 179, 200), (70, -178, 400),
            (45, 90, 5_000), (0, 0, 15_000), (30, -60, 0.5), (-60, 0, 1_000), (75, 170, 1_200),
        ])
    func boundingBoxContainsTheCircle(latitude: Double, longitude: Double, radiusKm: Double) {
        let circle = GeoCircle(center: GeoPoint(latitude: latitude, longitude: longitude), radiusKm: radiusKm)
        let box = circle.boundingBox
        #expect(box.minLatitude <= box.maxLatitude && box.minLongitude <= box.maxLongitude)
        #expect(box.minLatitude >= -90 && box.maxLatitude <= 90 && box.minLongitude >= -180 && box.maxLongitude <= 180)
        var outside: [GeoPoint] = []
        for step in 0..<720 {
            for fraction in [1.0, 0.5] {
                let point = destination(from: circle.center, distanceKm: radiusKm * fraction, bearing: Double(step) / 2)
                let inside =
                    (box.minLatitude...box.maxLatitude).contains(point.latitude)
                    && (box.minLongitude...box.maxLongitude).contains(point.longitude)
                if !inside { outside.append(point) }
            }
        }
        #expect(outside.isEmpty, "\(outside.count) points outside \(box), e.g. \(outside.prefix(3))")
    }

    @Test func boundingBoxContainsRandomCircles() {
        var random = SeededGenerator(seed: 0x6765_6f)
        var failures: [String] = []
        for _ in 0..<300 {
            let center = GeoPoint(
                latitude: Double.random(in: -89.99...89.99, using: &random),
                longitude: Double.random(in: -180...180, using: &random))
            let radius = pow(10, Double.random(in: -1...4.3, using: &random))
            let box = GeoCircle(center: center, radiusKm: radius).boundingBox
            for step in 0..<360 {
                let point = destination(from: center, distanceKm: radius, bearing: Double(step))
                let inside =
                    (box.minLatitude...box.maxLatitude).contains(point.latitude)
                    && (box.minLongitude...box.maxLongitude).contains(point.longitude)
                if !inside {
                    failures.append("centre \(center), radius \(radius) km, edge point \(point), box \(box)")
                    break
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) circles, e.g. \(failures.prefix(2))")
    }

    @Test func boundingBoxOfASmallCircleIsTight() {
        let box = GeoCircle(center: Self.london, radiusKm: 10).boundingBox
        #expect(box.maxLatitude - box.minLatitude < 0.2)
        #expect(box.maxLongitude - box.minLongitude < 0.4)
        #expect(box.minLongitude < Self.london.longitude && Self.london.longitude < box.maxLongitude)
    }
}
