import Foundation
import Testing

@testable import DeviceWatchCore

@Suite("Sliced list decoding")
struct SlicedDecodingTests {
    /// A list of `count` devices with hostile strings, bad entries and fields, and odd whitespace.
    func awkwardList(count: Int) -> Data {
        var items: [String] = []
        for index in 0..<count {
            switch index % 97 {
            case 5: items.append(#"{"name": "no id ] } [ {"}"#)
            case 11: items.append("null")
            case 13: items.append(#"{"id": \#(index)}"#)
            case 17: items.append(#"{"id": "d\#(index)", "last_heartbeat": "soon", "tags": "x"}"#)
            default:
                items.append(
                    #"""
                    {"id": "d\#(index)", "name": "cam \"\#(index)\" [a]{b}\\", "status": "online",
                     "last_heartbeat": "2026-11-28T12:00:00.000Z", "tags": ["t,1", "]"], "hardware": {"gpu": "}"},
                     "extra": [1, {"n": [2, 3]}, "\u005d"], "created_at": null}
                    """#)
            }
        }
        return Data(
            ("{ \"meta\": {\"data\": [1]}, \"data\" :\n [ " + items.joined(separator: " ,\n") + " ] , \"next\": null }")
                .utf8)
    }

    @Test func slicedAndWholeDecodingAgreeExactly() throws {
        let body = awkwardList(count: 10_000)
        let sliced = try DeviceListDecoder.decodeList(body, slicingAbove: 0)
        let whole = try DeviceListDecoder.decodeList(body, slicingAbove: .max)
        #expect(sliced.devices == whole.devices)
        #expect(sliced.warnings == whole.warnings)
        #expect(sliced.skipped == whole.skipped)
        #expect(sliced.devices.count > 9_000)
        #expect(sliced.skipped.contains(SkippedDevice(index: 5, reason: "no \"id\"")))
        #expect(sliced.warnings.contains { $0.index == 17 && $0.field == "last_heartbeat" })
        #expect(sliced.devices.first?.name == #"cam "0" [a]{b}\"#)
    }

    @Test func bareArraysAreSlicedToo() throws {
        let body = Data(("[" + (0..<5000).map { #"{"id": "x\#($0)"}"# }.joined(separator: ",") + "]").utf8)
        let sliced = try DeviceListDecoder.decodeList(body, slicingAbove: 0)
        #expect(sliced.devices.count == 5000)
        #expect(sliced.devices.last?.id == "x4999")
    }

    @Test(arguments: [0, 1, 2, 2001])
    func smallAndEdgeSizedListsDecode(count: Int) throws {
        let items = (0..<count).map { #"{"id": "x\#($0)"}"# }.joined(separator: ",")
        let body = Data((#"{"data": ["# + items + "]}").utf8)
        #expect(try DeviceListDecoder.decodeList(body, slicingAbove: 0).devices.count == count)
    }

    @Test func truncatedLargeBodyIsOneClearError() {
        let body = awkwardList(count: 3000)
        let cut = body.prefix(body.count * 2 / 3)
        #expect {
            _ = try DeviceListDecoder.decodeList(cut, slicingAbove: 0)
        } throws: { error in
            String(describing: error).contains("not valid JSON")
        }
    }

    @Test func splitterFindsElementBoundariesOrGivesUp() {
        func ranges(_ text: String) -> [String]? {
            let data = Data(text.utf8)
            return data.withUnsafeBytes { bytes in
                JSONArraySplitter.elementRanges(in: bytes)?.map { String(decoding: bytes[$0], as: UTF8.self) }
            }
        }
        #expect(ranges(#"{"data": [1, "a,]", {"b": [2]}]}"#) == ["1", #""a,]""#, #"{"b": [2]}"#])
        #expect(ranges(#"[]"#) == [])
        #expect(ranges(#"{"next": null}"#) == nil)
        #expect(ranges(#"{"data": [1, 2"#) == nil)
        #expect(ranges(#"{"data": [1] "#) == nil)
        #expect(ranges(#"[1] trailing"#) == nil)
        #expect(ranges(#"{"data": ["unterminated]}"#) == nil)
    }
}
