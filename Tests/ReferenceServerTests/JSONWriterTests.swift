import Foundation
import NIOCore
@testable import ReferenceServer
import Testing
import TradesKit

/// The hand-written JSON of the busiest answers against the reference, their `Encodable` conformance through the
/// server's encoder: byte for byte, on ordinary values, on every optional member present and absent, on hostile strings
/// and on edge-case numbers.
@Suite("JSON writer")
struct JSONWriterTests {
    private func expectSameBytes(_ value: some JSONWritable, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = try ServerContext.encoder.encode(value)
        let written = Data(try JSONWriter.bytes(of: value, capacity: 16).readableBytesView)
        #expect(
            written == reference, "\(String(decoding: written, as: UTF8.self))\n≠ \(String(decoding: reference, as: UTF8.self))",
            sourceLocation: sourceLocation)
    }

    /// Every control character, quotes, backslashes, slashes, DEL, line separators, combining marks, and characters
    /// outside the Basic Multilingual Plane.
    static let hostileStrings: [String] = [
        "",
        String(String.UnicodeScalarView((0..<32).compactMap(Unicode.Scalar.init))),
        #"quote " backslash \ slash / both \" end\"#,
        "\u{7F}\u{80}\u{2028}\u{2029}\u{FEFF}e\u{301} 😀 𝄞 日本語",
        "line\nbreak\r\ntab\tend\u{0}",
        String(repeating: "long text ", count: 500),
    ]

    static let numbers: [Double] = [
        0, -0.0, 51, -0.1278, 51.507_351, 89.999_999_999_999_99, -90, 180, -179.999_999, 1e-5, 0.000_1, .leastNonzeroMagnitude, 1e-300, 12_345.678,
        0.1 + 0.2,
    ]

    private static let at = Date(millisecondsSince1970: 1_795_000_000_123)

    private static func job(
        title: String = "Fix the roof", description: String = "Slates / tiles", location: GeoPoint = GeoPoint(latitude: 51.5, longitude: -0.12),
        awarded: Bool = false, closed: Bool = false, amounts: (Int64, Int64) = (10_000, 50_000)
    ) -> Job {
        Job(
            id: JobID(UUID()), ownerID: UserID(UUID()), categoryID: CategoryID(UUID()), title: title, description: description, location: location,
            budget: BudgetRange(min: Money(amounts.0, .usd), max: Money(amounts.1, .usd)), status: closed ? .closed : awarded ? .awarded : .open,
            acceptedBidID: awarded ? BidID(UUID()) : nil, contractorID: awarded ? UserID(UUID()) : nil, createdAt: at,
            updatedAt: at.addingTimeInterval(0.999), completedAt: closed ? at.addingTimeInterval(60) : nil,
            closedAt: closed ? at.addingTimeInterval(120) : nil)
    }

    @Test("a job, with its optional members absent and present")
    func jobs() throws {
        try expectSameBytes(JobResponse(Self.job()))
        try expectSameBytes(JobResponse(Self.job(awarded: true)))
        try expectSameBytes(JobResponse(Self.job(awarded: true, closed: true)))
        try expectSameBytes(JobResponse(Self.job(amounts: (0, Int64.max))))
        try expectSameBytes(JobResponse(Self.job(amounts: (Int64.min, -1))))
    }

    @Test("hostile strings are escaped as Foundation escapes them", arguments: hostileStrings)
    func strings(_ text: String) throws {
        try expectSameBytes(JobResponse(Self.job(title: text, description: text)))
        try expectSameBytes(
            BidResponse(
                Bid(id: BidID(UUID()), jobID: JobID(UUID()), contractorID: UserID(UUID()), amount: Money(1, .eur), message: text, createdAt: Self.at))
        )
        try expectSameBytes(
            MessageResponse(Message(id: MessageID(UUID()), jobID: JobID(UUID()), senderID: UserID(UUID()), body: text, createdAt: Self.at)))
    }

    @Test("random strings, a thousand of them")
    func randomStrings() throws {
        var generator = SplitMix64(seed: 0x7EAD_E5)
        let alphabet: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x1_0000...0x10_FFFF]
        for _ in 0..<1_000 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                let range = alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
                if let scalar = Unicode.Scalar(UInt32.random(in: range, using: &generator)) { scalars.append(scalar) }
            }
            try expectSameBytes(
                MessageResponse(
                    Message(id: MessageID(UUID()), jobID: JobID(UUID()), senderID: UserID(UUID()), body: String(scalars), createdAt: Self.at)))
        }
    }

    @Test("coordinates are written as Foundation writes numbers", arguments: numbers)
    func coordinates(_ value: Double) throws {
        try expectSameBytes(JobResponse(Self.job(location: GeoPoint(latitude: value, longitude: -value))))
    }

    @Test(
        "a number JSON cannot hold is an error, as the encoder's, not a crash",
        arguments: [Double.nan, .infinity, -.infinity, .signalingNaN])
    func nonFiniteNumbers(_ value: Double) throws {
        let job = JobResponse(Self.job(location: GeoPoint(latitude: 51.5, longitude: value)))
        #expect(throws: EncodingError.self) { try ServerContext.encoder.encode(job) }
        #expect(throws: EncodingError.self) { try JSONWriter.bytes(of: job) }
        #expect(throws: EncodingError.self) { try JSONWriter.bytes(of: ListResponse(items: [job], nextCursor: nil)) }
    }

    @Test("timestamps across the years and the millisecond")
    func timestamps() throws {
        for milliseconds: Int64 in [0, -1, 999, 1_000, 951_782_400_000, 253_402_300_799_999, -62_135_596_800_000, 1_795_000_000_001] {
            let at = Date(millisecondsSince1970: milliseconds)
            try expectSameBytes(
                MessageResponse(Message(id: MessageID(UUID()), jobID: JobID(UUID()), senderID: UserID(UUID()), body: "x", createdAt: at)))
        }
    }

    @Test("list pages: empty, last (explicit null cursor) and with a next cursor")
    func pages() throws {
        try expectSameBytes(ListResponse<JobResponse>(items: []))
        try expectSameBytes(ListResponse(items: (0..<20).map { _ in JobResponse(Self.job()) }))
        let cursor = PageCursor(after: Self.at, id: UUID())
        try expectSameBytes(ListResponse(items: [JobResponse(Self.job(awarded: true))], nextCursor: cursor))
        let bids = (0..<3).map { index in
            BidResponse(
                Bid(
                    id: BidID(UUID()), jobID: JobID(UUID()), contractorID: UserID(UUID()), amount: Money(Int64(index) * 1_000, .gbp),
                    message: "m\(index)",
                    status: BidStatus.allCases[index % BidStatus.allCases.count], createdAt: Self.at))
        }
        try expectSameBytes(ListResponse(items: bids, nextCursor: cursor))
    }

    @Test("every status is written as its raw value")
    func statuses() throws {
        for status in JobStatus.allCases {
            var job = Self.job()
            job.status = status
            try expectSameBytes(JobResponse(job))
        }
    }
}

/// A small seeded generator, so a failing random case can be replayed.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
