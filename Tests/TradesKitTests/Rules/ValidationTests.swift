import Foundation
import Testing
import TradesKit

private func textErrors(_ value: String, min: Int = 1, max: Int) -> (trimmed: String, codes: [String]) {
    var validator = Validator()
    let trimmed = validator.text(value, field: "title", min: min, max: max)
    return (trimmed, validator.errors.map(\.code))
}

@Suite("Validator")
struct ValidatorTests {
    @Test func acceptsAndTrimsPlainText() {
        let result = textErrors("  Fix the sink \n", max: 20)
        #expect(result.codes.isEmpty)
        #expect(result.trimmed == "Fix the sink")
    }

    @Test("Empty or whitespace only is required", arguments: ["", " ", "\n\t  \r\n", "\u{00A0}\u{2003}"])
    func emptyIsRequired(value: String) {
        #expect(textErrors(value, max: 10).codes == ["required"])
    }

    @Test func tooShort() {
        #expect(textErrors("ab", min: 3, max: 10).codes == ["too_short"])
        #expect(textErrors("abc", min: 3, max: 10).codes.isEmpty)
    }

    @Test func exactlyAtTheLimitsAndOneOver() {
        #expect(textErrors(String(repeating: "a", count: 10), max: 10).codes.isEmpty)
        #expect(textErrors(String(repeating: "a", count: 11), max: 10).codes == ["too_long"])
        #expect(textErrors("a", min: 1, max: 1).codes.isEmpty)
        // The maximum bounds the text as sent (JSON Schema's maxLength); the minimum counts what is left once trimmed.
        let padded = "   " + String(repeating: "a", count: 10) + "   "
        #expect(textErrors(padded, max: 10).codes == ["too_long"])
        #expect(textErrors(padded, min: 10, max: 16).codes.isEmpty)
        #expect(textErrors("   " + String(repeating: "a", count: 9) + "   ", min: 10, max: 16).codes == ["too_short"])
    }

    @Test("Lengths are counted in Unicode scalars, as JSON Schema counts them, so the API's schema states them exactly")
    func unicodeIsCountedInScalars() {
        let family = "👨‍👩‍👧‍👦"  // 7 scalars, 1 character
        let accented = "e\u{301}"  // 2 scalars, 1 character
        #expect(textErrors(String(repeating: family, count: 5), max: 35).codes.isEmpty)
        #expect(textErrors(String(repeating: family, count: 5), max: 34).codes == ["too_long"])
        #expect(textErrors(String(repeating: accented, count: 3), max: 6).codes.isEmpty)
        #expect(textErrors(String(repeating: accented, count: 3), max: 5).codes == ["too_long"])
        #expect(textErrors(String(repeating: accented, count: 5), min: 10, max: 20).codes.isEmpty)
        #expect(textErrors("日本語の仕事", max: 6).codes.isEmpty)
    }

    @Test("Control characters are refused", arguments: ["a\u{0}b", "a\u{7}b", "a\u{1B}[31mb", "a\u{7F}b", "a\u{85}b"])
    func controlCharacters(value: String) {
        #expect(textErrors(value, max: 100).codes == ["invalid_characters"])
    }

    @Test func newlinesAndTabsInsideAreAllowed() {
        #expect(textErrors("line one\nline two\r\n\tindented", max: 100).codes.isEmpty)
    }

    @Test func errorsDoNotEchoTheValue() {
        var validator = Validator()
        validator.text("secret\u{0}value", field: "title", max: 100)
        #expect(validator.errors.count == 1)
        #expect(!validator.errors.map(\.description).joined().contains("secret"))
        #expect(validator.errors.first?.field == "title")
    }

    @Test func range() {
        var validator = Validator()
        validator.range(0, 0...5, field: "a")
        validator.range(5, 0...5, field: "b")
        validator.range(2.5, 0.0...5.0, field: "c")
        #expect(validator.errors.isEmpty)
        validator.range(-1, 0...5, field: "d")
        validator.range(6, 0...5, field: "e")
        #expect(validator.errors.map(\.field) == ["d", "e"])
        #expect(validator.errors.allSatisfy { $0.code == "out_of_range" })
    }

    @Test("Valid points", arguments: [(0.0, 0.0), (90, 180), (-90, -180), (51.5, -0.12), (-33.87, 151.21)])
    func validPoints(latitude: Double, longitude: Double) {
        var validator = Validator()
        validator.point(GeoPoint(latitude: latitude, longitude: longitude), field: "location")
        #expect(validator.errors.isEmpty)
    }

    @Test(
        "Invalid points name each bad coordinate",
        arguments: [
            (Double.nan, 0.0, ["location.latitude"]),
            (0, .nan, ["location.longitude"]),
            (.infinity, 0, ["location.latitude"]),
            (0, -.infinity, ["location.longitude"]),
            (90.000001, 0, ["location.latitude"]),
            (-90.000001, 0, ["location.latitude"]),
            (0, 180.000001, ["location.longitude"]),
            (0, -180.000001, ["location.longitude"]),
            (.nan, .infinity, ["location.latitude", "location.longitude"]),
        ])
    func invalidPoints(latitude: Double, longitude: Double, fields: [String]) {
        var validator = Validator()
        validator.point(GeoPoint(latitude: latitude, longitude: longitude), field: "location")
        #expect(validator.errors.map(\.field) == fields)
        #expect(validator.errors.allSatisfy { $0.code == "out_of_range" })
    }

    @Test func positiveAmount() {
        var validator = Validator()
        validator.positiveAmount(Fixture.usd(1), currency: .usd, field: "amount")
        #expect(validator.errors.isEmpty)
        validator.positiveAmount(Fixture.usd(0), currency: .usd, field: "zero")
        validator.positiveAmount(Fixture.usd(-1), currency: .usd, field: "negative")
        validator.positiveAmount(Money(5, .eur), currency: .usd, field: "euro")
        validator.positiveAmount(Money(0, .eur), currency: .usd, field: "both")
        #expect(
            validator.errors.map(\.field) == [
                "zero.amount", "negative.amount", "euro.currency", "both.currency", "both.amount",
            ])
    }

    @Test func checkThrowsEveryErrorAtOnce() throws {
        var validator = Validator()
        try validator.check()
        validator.text("", field: "title", max: 10)
        validator.range(99, 1...5, field: "rating")
        let error = tradesKitError { () throws(TradesKitError) in try validator.check() }
        #expect(error?.code == .validationFailed)
        #expect(error?.fieldErrors.map(\.field) == ["title", "rating"])
    }
}

@Suite("Personal data values")
struct PersonalDataTests {
    @Test(
        "Valid e-mail addresses",
        arguments: [
            "a@b.co", "first.last+tag@example.com", "  padded@example.org ", "UPPER@Example.COM",
            String(repeating: "x", count: 64) + "@example.com",
        ])
    func validEmails(raw: String) throws {
        let email = try EmailAddress(raw)
        #expect(email.value == raw.trimmingCharacters(in: .whitespaces))
        #expect(email.normalized == email.value.lowercased())
    }

    @Test(
        "Invalid e-mail addresses",
        arguments: [
            "", "plain", "@example.com", "a@", "a@b", "a@.example.com", "a@example.com.", "a@example..com", "a@@example.com",
            "a b@example.com", "a@exa mple.com", "ä@example.com", "a@example.com\n", "<a@example.com>", "a,b@example.com",
            "a;b@example.com", String(repeating: "x", count: 65) + "@example.com",
            "a@" + String(repeating: "d", count: 250) + ".com",
        ])
    func invalidEmails(raw: String) {
        let error = tradesKitError { () throws(TradesKitError) in try EmailAddress(raw) }
        #expect(error?.code == .validationFailed)
        #expect(error?.fieldErrors.first?.field == "email")
    }

    /// The rule as first written with Foundation (trim blanks, split at `@`, count characters), kept as the
    /// specification of the single-pass validator that decodes every stored address.
    private static func referenceAccepts(_ raw: String) -> String? {
        let value = raw.trimmingCharacters(in: .whitespaces)
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        let valid =
            value.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[0].count <= 64
            && parts[1].contains(".") && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".") && !parts[1].contains("..")
            && value.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 && $0 != "<" && $0 != ">" && $0 != "," && $0 != ";" }
        return valid ? value : nil
    }

    @Test("E-mail validation agrees with the reference rule on 20 000 generated strings")
    func emailsAgreeWithTheReference() {
        var generator = SeededGenerator(seed: 0xE_3A11)
        // Mostly address-like pieces, so that both accepted and refused strings are common.
        let pieces = ["a", "Z", "0", "@", ".", "..", "-", "+", " ", "\t", "\n", "<", ";", ",", "é", "\u{A0}", "\u{7F}", "example", "com", "x@y.z"]
        var accepted = 0
        for _ in 0..<20_000 {
            var raw = ""
            for _ in 0..<Int.random(in: 0...12, using: &generator) { raw += pieces[Int.random(in: 0..<pieces.count, using: &generator)] }
            if Bool.random(using: &generator) { raw += String(repeating: "q", count: Int.random(in: 50...260, using: &generator)) }
            let expected = Self.referenceAccepts(raw)
            let actual = try? EmailAddress(raw).value
            #expect(actual == expected, "\(raw.debugDescription)")
            if actual != nil { accepted += 1 }
        }
        #expect(accepted > 100, "the generator should produce valid addresses too")
    }

    @Test func emailsCompareByValueNotCase() throws {
        #expect(try EmailAddress("Ann@Example.com").normalized == EmailAddress("ann@example.COM").normalized)
    }

    @Test func emailDescriptionIsRedacted() throws {
        let email = try EmailAddress("ann.secret@example.com")
        #expect(!"\(email)".contains("ann.secret"))
        #expect(!"\(email)".contains("example.com"))
        #expect(!String(describing: email).contains("@"))
        #expect(!String(reflecting: email).contains("ann.secret"))
    }

    @Test func emailErrorDoesNotEchoTheAddress() {
        let raw = "ann.secret@@example.com"
        do {
            _ = try EmailAddress(raw)
            Issue.record("should have thrown")
        } catch {
            #expect(!String(describing: error).contains("ann.secret"))
            #expect(!error.message.contains("ann.secret"))
            #expect(!error.fieldErrors.map(\.message).joined().contains("ann.secret"))
        }
    }

    @Test func emailJSONRoundTripAndRejection() throws {
        let email = try EmailAddress("ann@example.com")
        let data = try JSONEncoder().encode(email)
        #expect(String(decoding: data, as: UTF8.self) == #""ann@example.com""#)
        #expect(try JSONDecoder().decode(EmailAddress.self, from: data) == email)
        #expect(throws: TradesKitError.self) { try JSONDecoder().decode(EmailAddress.self, from: Data(#""nope""#.utf8)) }
    }

    @Test("Valid E.164 numbers", arguments: ["+14155550123", "+4420794600", "+12345678", "+123456789012345", " +447911123456 "])
    func validPhones(raw: String) throws {
        let phone = try PhoneNumber(raw)
        #expect(phone.value == raw.trimmingCharacters(in: .whitespaces))
    }

    @Test(
        "Invalid E.164 numbers",
        arguments: [
            "", "+", "14155550123", "+1234567", "+1234567890123456", "+04155550123", "+1 415 555 0123", "+1-415-555-0123",
            "+1415555012a", "++14155550123", "+١٤١٥٥٥٥٠١٢٣", "+１４１５５５５０１２３",
        ])
    func invalidPhones(raw: String) {
        let error = tradesKitError { () throws(TradesKitError) in try PhoneNumber(raw) }
        #expect(error?.code == .validationFailed)
        #expect(error?.fieldErrors.first?.field == "phone")
    }

    @Test func phoneDescriptionAndErrorAreRedacted() throws {
        let phone = try PhoneNumber("+14155550123")
        #expect(!"\(phone)".contains("4155550123"))
        #expect(!String(describing: phone).contains("555"))
        do {
            _ = try PhoneNumber("+4479111234x")
            Issue.record("should have thrown")
        } catch {
            #expect(!String(describing: error).contains("479111234"))
        }
    }

    @Test func userDescriptionHasNoPersonalData() throws {
        let user = User(
            id: Fixture.owner, email: try EmailAddress("ann.secret@example.com"), displayName: "Ann Secretname",
            phone: try PhoneNumber("+14155550123"), role: .homeowner, passwordHash: "$2b$12$hashhash", createdAt: Fixture.t0)
        let text = "\(user)"
        #expect(!text.contains("ann.secret") && !text.contains("example.com") && !text.contains("@"))
        #expect(!text.contains("4155550123"))
        #expect(!text.contains("hashhash"))
        #expect(text.contains(Fixture.owner.uuidString))
        #expect(text.contains("homeowner"))
    }
}
