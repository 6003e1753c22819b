import Foundation
import Testing

@testable import DeviceWatchCore

/// The byte scanner against the `Codable` path it stands in for: on every body, the same
/// devices, warnings and skipped entries, or the same error.
@Suite("Device list scanner")
struct DeviceScannerTests {
    /// Decoded with the scanner (the default) and the `Codable` way, compared whole.
    func expectAgreement(_ body: Data, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let scanned = Result { () throws(DeviceBodyError) in try DeviceListDecoder.decodeList(body) }
        let decoded = Result { () throws(DeviceBodyError) in
            try DeviceListDecoder.decodeList(body, slicingAbove: .max, scanning: false)
        }
        switch (scanned, decoded) {
        case (.success(let left), .success(let right)):
            #expect(left.devices == right.devices, comment, sourceLocation: sourceLocation)
            #expect(left.warnings == right.warnings, comment, sourceLocation: sourceLocation)
            #expect(left.skipped == right.skipped, comment, sourceLocation: sourceLocation)
        case (.failure(let left), .failure(let right)):
            #expect(left == right, comment, sourceLocation: sourceLocation)
        default:
            Issue.record(
                "one decoded and the other did not: \(scanned) / \(decoded) \(comment?.rawValue ?? "")",
                sourceLocation: sourceLocation)
        }
    }

    /// Every value kind in every field, ids of every kind, entries that are not objects.
    static let hostileEntries: [String] = {
        let values = [
            #""text""#, "12", "-0.5e3", "null", "true", "[]", #"["a", "b"]"#, #"["a", 1]"#, #"{"x": 1}"#,
            #""2026-11-28T12:00:00.000Z""#, #""2026-11-28T12:00:00Z""#, #""soon""#, #""\u00e9\ud83d\ude00\n\"\\\/""#,
        ]
        let fields = [
            "name", "status", "last_heartbeat", "platform", "platform_release", "platform_version", "architecture",
            "hostname", "rfdm_version", "type", "tags", "created_at", "hardware",
        ]
        var entries: [String] = []
        for (index, field) in fields.enumerated() {
            for (which, value) in values.enumerated() {
                entries.append(#"{"id": "d-\#(index)-\#(which)", "\#(field)": \#(value), "extra": [1, {"n": [2]}]}"#)
            }
        }
        let hardware = ["processor", "gpu", "total_memory_mb", "total_disk_space_mb", "other"]
        for (index, field) in hardware.enumerated() {
            for (which, value) in values.enumerated() {
                entries.append(#"{"id": "h-\#(index)-\#(which)", "hardware": {"\#(field)": \#(value)}}"#)
            }
        }
        for id in values + ["{}"] { entries.append(#"{"id": \#(id), "name": 5}"#) }
        entries += [
            #"{"name": "no id"}"#, "null", "3", #""a string""#, "[1, 2]", "{}", "true",
            #"{"na\u006de": "escaped key", "id": "escaped"}"#,
            #"{"id": "every-escape", "name": "q\" b\\ s\/ \b\f\n\r\t \u00e9 \uD83D\uDE00"}"#,
            #"{"id": "all", "name": "cam \"1\" <b>@here</b>", "status": "rebooting", "tags": [], "hardware": null,"#
                + #" "last_heartbeat": "2026-11-28T12:00:00.123Z", "created_at": "2026-01-01T00:00:00.000Z"}"#,
        ]
        return entries
    }()

    func scanned(_ body: Data) -> DecodedDevices? { body.withUnsafeBytes { DeviceScanner.list($0) } }

    @Test func everyFieldOfEveryKindDecodesAsTheCodablePathDoes() {
        let entries = Self.hostileEntries
        let bare = Data(("[" + entries.joined(separator: ",") + "]").utf8)
        let wrapped = Data(
            (#"{"meta": {"data": 1}, "data": [ "# + entries.joined(separator: " ,\n ") + "\n], \"next\": null}").utf8)
        expectAgreement(bare, "bare array")
        expectAgreement(wrapped, "wrapped")
        // Read by the scanner itself, not handed to the Codable path.
        #expect(scanned(bare)?.devices.count ?? 0 > 200 && scanned(wrapped)?.skipped.count ?? 0 > 10)
        // One at a time too, so a disagreement names its entry.
        for entry in entries {
            expectAgreement(Data("[\(entry)]".utf8), Comment(rawValue: entry))
            #expect(scanned(Data("[\(entry)]".utf8)) != nil, Comment(rawValue: entry))
        }
    }

    @Test func theSlicingTestsAwkwardListAgrees() {
        let body = SlicedDecodingTests().awkwardList(count: 2_000)
        expectAgreement(body)
        #expect(scanned(body) != nil)
    }

    @Test func bodiesItDoesNotReadGoTheCodableWayAndGiveItsErrors() {
        for body in [
            "", "  ", "{}", #"{"data": null}"#, #"{"data": {}}"#, #"{"data": [], "data": []}"#, "[", "[{",
            #"[{"id": "a"}"#,
            #"[{"id": "a"}] x"#, #"[{"id": "a",}]"#, #"[{"id": "a", "id": "b"}]"#, #"[{"id": "a\u12"}]"#,
            #"[{"id": "\ud800"}]"#, #"[{"id": "a", "total": 1e400}]"#, #"[{"id": "a", "hardware": {"gpu": 1e999}}]"#,
            #"[{"id": "a", "n": 01}]"#, #"[{"id": "a", "n": .5}]"#, #"[{"id": "a", "n": -}]"#, "[{\"id\": \"a\tb\"}]",
            "\u{FEFF}[]", #"[{"id": "a"} {"id": "b"}]"#, #"[nul]"#,
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ] {
            expectAgreement(Data(body.utf8), Comment(rawValue: body))
            #expect(scanned(Data(body.utf8)) == nil, Comment(rawValue: body))
        }
        // Invalid UTF-8 in a string.
        expectAgreement(Data(#"[{"id": "a"#.utf8) + Data([0xC3, 0x28]) + Data(#""}]"#.utf8))
    }

    /// Seeded edits of a hostile body (a byte replaced by one that matters to JSON, inserted or
    /// deleted): whatever the result, both ways agree.
    @Test func randomEditsOfAHostileBodyAgree() {
        var random = SplitMix64(seed: 0x5EED)
        let base = Array(("[" + Self.hostileEntries.prefix(60).joined(separator: ",") + "]").utf8)
        let significant = Array(#"{}[],:"\ 0123456789-+.eEtrufalsn"#.utf8) + [0x00, 0x1F, 0xC3, 0xFF]
        for _ in 0..<400 {
            var body = base
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let position = Int.random(in: 0..<body.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: body[position] = significant.randomElement(using: &random)!
                case 1: body.insert(significant.randomElement(using: &random)!, at: position)
                default: body.remove(at: position)
                }
            }
            expectAgreement(Data(body))
        }
    }

    @Test func aGetResponseDecodesAsTheCodablePathDoes() throws {
        for entry in Self.hostileEntries {
            let body = Data(entry.utf8)
            let scanned = Result { () throws(DeviceBodyError) in try DeviceListDecoder.decodeDevice(body) }
            let decoded = Result { () throws(DeviceBodyError) in
                try DeviceListDecoder.decodeDevice(body, scanning: false)
            }
            switch (scanned, decoded) {
            case (.success(let left), .success(let right)):
                #expect(left.device == right.device && left.warnings == right.warnings, Comment(rawValue: entry))
            case (.failure(let left), .failure(let right)):
                #expect(left == right, Comment(rawValue: entry))
            default:
                Issue.record("one decoded and the other did not: \(entry)")
            }
        }
    }
}
