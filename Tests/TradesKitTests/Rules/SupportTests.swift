import Foundation
import Testing
import TradesKit

@Suite("Page cursor")
struct PageCursorTests {
    @Test func tokenRoundTrips() throws {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let milliseconds = Int64.random(in: 0...4_102_444_800_000, using: &random)
            let cursor = PageCursor(after: Date(millisecondsSince1970: milliseconds), id: UUID())
            #expect(cursor.milliseconds == milliseconds)
            let token = cursor.token
            #expect(!token.contains("+") && !token.contains("/") && !token.contains("="), "URL-safe: \(token)")
            #expect(try PageCursor(token: token) == cursor)
        }
    }

    private static func encode(_ raw: String) -> String {
        Data(raw.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    @Test(
        "Invalid tokens are a validation error",
        arguments: [
            "", "!!!", "not a token", "%%%%",
            String(repeating: "A", count: 101),
            encode("1700000000000"),
            encode("1700000000000_00000000-0000-7000-8000-000000000001_extra"),
            encode("soon_00000000-0000-7000-8000-000000000001"),
            encode("1700000000000_not-a-uuid"),
            encode("99999999999999999999_00000000-0000-7000-8000-000000000001"),
            encode(String(repeating: "1", count: 60) + "_00000000-0000-7000-8000-000000000001"),
        ])
    func invalidTokens(token: String) {
        let error = tradesKitError { () throws(TradesKitError) in try PageCursor(token: token) }
        #expect(error?.code == .validationFailed)
        #expect(error?.fieldErrors.first?.field == "cursor")
    }

    @Test func pageRequestClampsTheLimit() {
        #expect(PageRequest(limit: 0).limit == 1)
        #expect(PageRequest(limit: -5).limit == 1)
        #expect(PageRequest(limit: 100).limit == 100)
        #expect(PageRequest(limit: 101).limit == 100)
        #expect(PageRequest().limit == 50)
        // Set after creation too: a storage never sees a limit outside 1…100 (SQLite's keyset page trapped on 0).
        var request = PageRequest()
        for (set, clamped) in [(0, 1), (-1, 1), (Int.min, 1), (500, 100), (Int.max, 100), (7, 7)] {
            request.limit = set
            #expect(request.limit == clamped, "\(set)")
        }
    }
}

@Suite("Identifiers")
struct IdentifierTests {
    @Test func codableRoundTripAsALowercaseString() throws {
        let id = JobID(UUID(uuidString: "0190A3B2-C4D5-7E6F-8A9B-0C1D2E3F4A5B")!)
        let data = try JSONEncoder().encode(id)
        #expect(String(decoding: data, as: UTF8.self) == #""0190a3b2-c4d5-7e6f-8a9b-0c1d2e3f4a5b""#)
        #expect(try JSONDecoder().decode(JobID.self, from: data) == id)
        #expect(try JSONDecoder().decode(JobID.self, from: Data(#""0190A3B2-C4D5-7E6F-8A9B-0C1D2E3F4A5B""#.utf8)) == id)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(JobID.self, from: Data(#""not-a-uuid""#.utf8)) }
        #expect(id.description == id.uuidString)
        #expect(JobID(uuidString: id.uuidString) == id)
        #expect(JobID(uuidString: "nope") == nil)
    }

    @Test func orderingIsBytewise() {
        let low = BidID(UUID(uuidString: "00000000-0000-7000-8000-0000000000ff")!)
        let middle = BidID(UUID(uuidString: "00000000-0000-7000-8000-000000000100")!)
        let high = BidID(UUID(uuidString: "ff000000-0000-7000-8000-000000000000")!)
        #expect(low < middle && middle < high && low < high)
        #expect(!(middle < middle))
        #expect([high, low, middle].sorted() == [low, middle, high])
    }

    @Test func uuidV7IsVersionSevenWithTheClocksMilliseconds() {
        let start: Int64 = 1_700_000_000_000
        let generator = UUIDv7Generator(clock: SteppingClock(start: start, step: 1))
        for offset in Int64(0)..<50 {
            let uuid = generator.next().uuid
            #expect(uuid.6 >> 4 == 7, "version nibble")
            #expect(uuid.8 >> 6 == 0b10, "RFC 9562 variant")
            let bytes = [uuid.0, uuid.1, uuid.2, uuid.3, uuid.4, uuid.5]
            let milliseconds = bytes.reduce(Int64(0)) { $0 << 8 | Int64($1) }
            #expect(milliseconds == start + offset)
        }
    }

    @Test func uuidV7IsOrderedByTimeForAnAdvancingClock() {
        let generator = UUIDv7Generator(clock: SteppingClock(start: 1_600_000_000_000, step: 1))
        let ids: [EventID] = (0..<500).map { _ in generator.make() }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        let slow = UUIDv7Generator(clock: SteppingClock(start: 1_600_000_000_000, step: 86_400_000))
        let days: [EventID] = (0..<100).map { _ in slow.make() }
        #expect(days == days.sorted())
    }

    @Test func uuidV7WithTheSystemClockIsVersionSeven() {
        let uuid = UUIDv7Generator().next().uuid
        #expect(uuid.6 >> 4 == 7)
    }
}

@Suite("Milliseconds")
struct MillisecondTests {
    @Test func dateFromMillisecondsRoundTrips() {
        var random = SeededGenerator(seed: 2_024)
        let fixed: [Int64] = [0, 1, -1, 999, 1_000, 1_700_000_000_000, 1_700_000_000_001, 253_402_300_799_999, -62_135_596_800_000]
        let values = fixed + (0..<2_000).map { _ in Int64.random(in: -2_208_988_800_000...4_102_444_800_000, using: &random) }
        var wrong: [Int64] = []
        for milliseconds in values where Date(millisecondsSince1970: milliseconds).millisecondsSince1970 != milliseconds {
            wrong.append(milliseconds)
        }
        #expect(wrong.isEmpty, "\(wrong.count) values, e.g. \(wrong.prefix(5))")
    }

    @Test func truncationDropsSubMilliseconds() {
        let base = Date(timeIntervalSince1970: 1_700_000_000.123_9)
        #expect(base.truncatedToMilliseconds.millisecondsSince1970 == 1_700_000_000_123)
        #expect(Date(timeIntervalSince1970: 1_700_000_000.5004).millisecondsSince1970 == 1_700_000_000_500)
        #expect(Date(timeIntervalSince1970: 1_700_000_000.5006).millisecondsSince1970 == 1_700_000_000_501)
    }

    @Test func systemClockIsWholeMilliseconds() {
        let now = SystemClock().now()
        #expect(now.truncatedToMilliseconds == now)
    }
}

@Suite("UUID text")
struct UUIDTextTests {
    @Test("Ids are written and read as Foundation writes and reads them, in lower case")
    func matchesFoundation() {
        for _ in 0..<5_000 {
            let uuid = UUID()
            #expect(uuid.lowercasedString == uuid.uuidString.lowercased())
            #expect(UUID(canonicalText: uuid.uuidString) == uuid)
            #expect(UUID(canonicalText: uuid.lowercasedString) == uuid)
            #expect(Identifier<JobTag>(uuidString: uuid.uuidString)?.uuidString == uuid.uuidString.lowercased())
            var appended: [UInt8] = [1, 2]
            uuid.appendLowercased(to: &appended)
            #expect(appended == [1, 2] + Array(uuid.uuidString.lowercased().utf8))
        }
        let edges = [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")!]
        for uuid in edges {
            #expect(uuid.lowercasedString == uuid.uuidString.lowercased())
            #expect(UUID(canonicalText: uuid.lowercasedString) == uuid)
        }
    }

    @Test(
        "Anything but the 36-character form is refused (Foundation's parser, by sscanf, also takes a leading blank)",
        arguments: [
            "", "0189a5d-ac96-774b-bcce-b302099a8057", "01890a5d-ac96-774b-bcce-b302099a80577", "01890a5dac96774bbccedb302099a8057",
            "01890a5d_ac96-774b-bcce-b302099a8057", "01890a5d-ac96-774b-bcce-b302099a805g", "{01890a5d-ac96-774b-bcce-b302099a8057}",
            " 1890a5d-ac96-774b-bcce-b302099a8057", "01890a5d-ac96-774b-bcce-b302099a805é", "01890a5-dac96-774b-bcce-b302099a8057",
        ])
    func refused(_ text: String) {
        #expect(UUID(canonicalText: text) == nil)
        #expect(Identifier<JobTag>(uuidString: text) == nil)
    }
}

@Suite("Stored tenant settings")
struct StoredTenantSettingsTests {
    @Test("Decoding remembers by text: equal texts give equal settings, a changed text its own, past the memo's bound too")
    func memoized() throws {
        let encoder = JSONEncoder()
        var texts: [(String, TenantSettings)] = []
        for fee in 0..<600 {
            let settings = TenantSettings(
                currency: fee.isMultiple(of: 2) ? .usd : .eur, platformFeeBasisPoints: fee,
                branding: Branding(name: "Tenant \(fee)", primaryColor: "#000000", secondaryColor: "#FFFFFF", fromEmail: "t\(fee)@example.com"))
            texts.append((String(decoding: try encoder.encode(settings), as: UTF8.self), settings))
        }
        // Twice over, so the second pass reads what the first remembered (and what the bound dropped).
        for _ in 0..<2 {
            for (text, settings) in texts { #expect(try TenantSettings.decoded(fromStoredJSON: text) == settings) }
        }
        #expect(throws: DecodingError.self) { try TenantSettings.decoded(fromStoredJSON: "{}") }
    }
}
