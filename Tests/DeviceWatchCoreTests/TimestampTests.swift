import DeviceWatchCore
import Foundation
import Testing

@Suite("Timestamp")
struct TimestampTests {
    static let reference = 1_795_867_200.0  // 2026-11-28T12:00:00Z

    static let validForms: [(String, Double)] = [
        ("2026-11-28T12:00:00Z", reference),
        ("2026-11-28T12:00:00.000Z", reference),
        ("2026-11-28T12:00:00.5Z", reference + 0.5),
        ("2026-11-28T12:00:00.123456789Z", reference + 0.123456789),
        ("2026-11-28T13:30:00+01:30", reference),
        ("2026-11-28T07:00:00-05:00", reference),
        ("2026-11-28T13:00:00+0100", reference),
        ("2026-11-28T13:00:00+01", reference),
        ("2026-11-28 12:00:00Z", reference),
        ("2026-11-28t12:00:00z", reference),
        ("2026-11-28T12:00Z", reference),
        ("2026-11-28T12:00:00", reference),
        ("20261128T120000Z", reference),
        ("2026-11-28", reference - 12 * 3600),
        ("2026-11-28T12:00:00,25Z", reference + 0.25),
        ("2024-02-29T00:00:00Z", 1_709_164_800),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", -1),
        ("2026-11-27T24:00:00Z", reference - 12 * 3600),
    ]

    @Test(arguments: validForms)
    func parsesValidForms(text: String, expected: Double) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - expected) < 1e-6)
    }

    @Test(arguments: [
        "", "yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-11-28T25:00:00Z", "2026-11-28T12:60:00Z", "2026-11-28T12:00:00.Z", "2026-11-28T12:00:00+24:00",
        "2026-11-28T12:00:00Zjunk", "2026-1-28T12:00:00Z", "2026-11-28X12:00:00Z", "12:00:00",
    ])
    func rejectsInvalidText(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test func formatsAsTheAPIDoes() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: Self.reference)) == "2026-11-28T12:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: Self.reference + 0.25)) == "2026-11-28T12:00:00.250Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
    }

    @Test func formatAndParseRoundTripOverManyDays() throws {
        var seconds = -86_400.0 * 365 * 3
        while seconds < 86_400 * 365 * 80 {
            let date = Date(timeIntervalSince1970: seconds)
            let parsed = try #require(Timestamp.parse(Timestamp.format(date)))
            #expect(parsed == date)
            seconds += 86_400 * 7 + 3_601.5
        }
    }

    @Test func agreesWithFoundationsParserOnAFewInstants() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for text in ["2026-11-28T12:00:00.000Z", "1999-12-31T23:59:59.999Z", "2030-06-15T08:30:15.250+02:00"] {
            #expect(Timestamp.parse(text) == formatter.date(from: text))
        }
    }
}
