import DeviceWatchCore
import Foundation
import Testing

@Suite("DeviceListDecoder")
struct DeviceListDecoderTests {
    func fixture(_ name: String) throws -> Data {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        return try Data(contentsOf: url)
    }

    @Test func decodesEveryFieldOfACompleteDevice() throws {
        let decoded = try DeviceListDecoder.decodeList(fixture("tolerant-list"))
        let device = try #require(decoded.devices.first)
        #expect(device.id == "cam-1")
        #expect(device.name == "line-3-cam")
        #expect(device.status == .online)
        #expect(device.lastHeartbeat == Timestamp.parse("2026-11-28T11:59:30Z"))
        #expect(device.platform == "Linux")
        #expect(device.platformRelease == "5.10.120-tegra")
        #expect(device.platformVersion == "#1 SMP PREEMPT")
        #expect(device.architecture == "aarch64")
        #expect(device.hostname == "jetson-01")
        #expect(device.rfdmVersion == "1.2.3")
        #expect(device.type == "jetson")
        #expect(
            device.hardware == Hardware(processor: "ARMv8", gpu: "Orin", totalMemoryMB: 7982, totalDiskSpaceMB: 57000.5)
        )
        #expect(device.tags == ["production", "site-a"])
        #expect(device.createdAt == Timestamp.parse("2026-10-29T12:00:00Z"))
    }

    @Test func oneBadDeviceNeverSpoilsTheList() throws {
        let decoded = try DeviceListDecoder.decodeList(fixture("tolerant-list"))
        #expect(decoded.devices.map(\.id) == ["cam-1", "cam-2", "cam-3", "cam-4"])
        #expect(
            decoded.skipped == [
                SkippedDevice(index: 2, reason: "no \"id\""),
                SkippedDevice(index: 4, reason: "\"id\" is not a string"),
                SkippedDevice(index: 5, reason: "not a device object"),
            ])
    }

    @Test func wrongTypedFieldsBecomeNilWithAWarningAndTheRestIsKept() throws {
        let decoded = try DeviceListDecoder.decodeList(fixture("tolerant-list"))
        let cam3 = try #require(decoded.devices.first { $0.id == "cam-3" })
        #expect(cam3.status == .other("rebooting"))
        #expect(cam3.lastHeartbeat == nil)
        #expect(cam3.rfdmVersion == nil)
        #expect(cam3.hardware == nil)
        #expect(cam3.tags == [])
        #expect(cam3.createdAt == Timestamp.parse("2026-11-28T09:00:00Z"))
        let fields = decoded.warnings.filter { $0.deviceID == "cam-3" }.map(\.field)
        #expect(Set(fields) == ["rfdm_version", "tags", "last_heartbeat", "hardware"])
        #expect(fields.count == 4)
        #expect(decoded.warnings.allSatisfy { $0.index == 3 })
    }

    @Test func nullsAndMissingFieldsAreSimplyAbsent() throws {
        let decoded = try DeviceListDecoder.decodeList(fixture("tolerant-list"))
        let cam2 = try #require(decoded.devices.first { $0.id == "cam-2" })
        #expect(cam2.name == nil)
        #expect(cam2.status == .unknown)
        #expect(cam2.lastHeartbeat == nil)
        let cam4 = try #require(decoded.devices.first { $0.id == "cam-4" })
        #expect(cam4 == Device(id: "cam-4"))
        #expect(!decoded.warnings.contains { $0.deviceID == "cam-2" || $0.deviceID == "cam-4" })
    }

    @Test func aBareArrayIsAcceptedToo() throws {
        let decoded = try DeviceListDecoder.decodeList(Data(#"[{"id":"a"},{"id":"b","status":"offline"}]"#.utf8))
        #expect(decoded.devices.map(\.id) == ["a", "b"])
        #expect(decoded.devices[1].status == .offline)
    }

    @Test(arguments: [
        (#"{"data": [{"id": "a"}, {"id": "b""#, "not valid JSON"),
        ("<html>502 Bad Gateway</html>", "not valid JSON"),
        (#"{"devices": []}"#, "no \"data\" array"),
        (#"{"data": {"id": "a"}}"#, "unexpected JSON shape"),
        ("", "not valid JSON"),
    ])
    func aBrokenBodyIsOneClearError(body: String, expected: String) {
        #expect {
            _ = try DeviceListDecoder.decodeList(Data(body.utf8))
        } throws: { error in
            String(describing: error).contains(expected)
        }
    }

    @Test func getDecodesOneUnwrappedDevice() throws {
        let (device, warnings) = try DeviceListDecoder.decodeDevice(
            Data(#"{"id":"cam-9","status":"offline","tags":["x"],"extra":1}"#.utf8))
        #expect(device == Device(id: "cam-9", status: .offline, tags: ["x"]))
        #expect(warnings.isEmpty)
        #expect(throws: DeviceBodyError.self) { try DeviceListDecoder.decodeDevice(Data(#"{"name":"x"}"#.utf8)) }
    }

    @Test func encodingMatchesTheAPIAndDecodesBackUnchanged() throws {
        let device = Device(
            id: "cam-1", name: "n", status: .offline, lastHeartbeat: Timestamp.parse("2026-11-28T11:00:00Z"),
            rfdmVersion: "1.4.0", hardware: Hardware(gpu: "Orin", totalMemoryMB: 8000), tags: ["a"],
            createdAt: Timestamp.parse("2026-01-01T00:00:00Z"))
        let data = try JSONEncoder().encode(device)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["last_heartbeat"] as? String == "2026-11-28T11:00:00.000Z")
        #expect(object["hostname"] is NSNull)
        #expect(try JSONDecoder().decode(Device.self, from: data) == device)
    }

    @Test func statusKeepsUnknownValues() {
        #expect(DeviceStatus(rawValue: "online") == .online)
        #expect(DeviceStatus(rawValue: "maintenance") == .other("maintenance"))
        #expect(DeviceStatus(rawValue: "maintenance").rawValue == "maintenance")
    }
}
