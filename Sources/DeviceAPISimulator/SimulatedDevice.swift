import DeviceWatchCore
import Foundation

/// A device of the simulated fleet: its fixed facts and when it heartbeats.
public struct SimulatedDevice: Sendable, Equatable {
    /// A half-open span `[from, until)` during which the device heartbeats; `until` nil is open-ended.
    public struct OnlineInterval: Sendable, Equatable {
        public var from: Date
        public var until: Date?

        public init(from: Date, until: Date?) {
            self.from = from
            self.until = until
        }
    }

    public var id: String
    public var name: String?
    public var type: String?
    public var tags: [String]
    public var rfdmVersion: String?
    public var hostname: String?
    public var platform: String?
    public var platformRelease: String?
    public var platformVersion: String?
    public var architecture: String?
    public var hardware: Hardware?
    public var createdAt: Date?
    /// Seconds between heartbeats while online.
    public var heartbeatEvery: Double
    public var online: [OnlineInterval]
    /// Single heartbeats outside the schedule (from the admin API).
    public var extraHeartbeats: [Date]

    public init(
        id: String, name: String? = nil, type: String? = nil, tags: [String] = [], rfdmVersion: String? = nil,
        hostname: String? = nil, platform: String? = nil, platformRelease: String? = nil,
        platformVersion: String? = nil,
        architecture: String? = nil, hardware: Hardware? = nil, createdAt: Date? = nil, heartbeatEvery: Double = 30,
        online: [OnlineInterval] = [], extraHeartbeats: [Date] = []
    ) {
        self.id = id
        self.name = name
        self.type = type
        self.tags = tags
        self.rfdmVersion = rfdmVersion
        self.hostname = hostname
        self.platform = platform
        self.platformRelease = platformRelease
        self.platformVersion = platformVersion
        self.architecture = architecture
        self.hardware = hardware
        self.createdAt = createdAt
        self.heartbeatEvery = heartbeatEvery
        self.online = online
        self.extraHeartbeats = extraHeartbeats
    }

    /// How long after the last heartbeat a device still counts as online (the API's 5 minutes).
    public static let onlineWindow: Double = 300

    /// The latest heartbeat at or before `now`: the last tick `from + k * heartbeatEvery` that is
    /// before `until` and at or before `now`, over every interval, and any extra heartbeat.
    public func lastHeartbeat(at now: Date) -> Date? {
        var latest: Date?
        let t = now.timeIntervalSince1970
        for interval in online {
            let from = interval.from.timeIntervalSince1970
            guard from <= t else { continue }
            var ticks = ((t - from) / heartbeatEvery).rounded(.down)
            if let until = interval.until?.timeIntervalSince1970 {
                guard until > from else { continue }
                // The largest k with from + k * period < until.
                let lastBeforeUntil = ((until - from) / heartbeatEvery).rounded(.up) - 1
                ticks = min(ticks, lastBeforeUntil)
            }
            let tick = Date(timeIntervalSince1970: from + ticks * heartbeatEvery)
            if latest.map({ tick > $0 }) ?? true { latest = tick }
        }
        for beat in extraHeartbeats where beat <= now {
            if latest.map({ beat > $0 }) ?? true { latest = beat }
        }
        return latest
    }

    /// The device as the API reports it at `now`.
    public func snapshot(at now: Date) -> Device {
        var device = Device(id: id, name: name, type: type, tags: tags, createdAt: createdAt)
        guard let last = lastHeartbeat(at: now) else {
            device.status = .unknown
            return device
        }
        device.lastHeartbeat = last
        device.status = now.timeIntervalSince(last) < Self.onlineWindow ? .online : .offline
        device.platform = platform
        device.platformRelease = platformRelease
        device.platformVersion = platformVersion
        device.architecture = architecture
        device.hostname = hostname
        device.rfdmVersion = rfdmVersion
        device.hardware = hardware
        return device
    }
}

extension SimulatedDevice {
    static let keys: Set<String> = [
        "id", "name", "type", "tags", "rfdm_version", "hostname", "platform", "platform_release", "platform_version",
        "architecture", "hardware", "created_at", "heartbeat_every", "online",
    ]

    /// Reads a device definition; relative times count from `origin`.
    init(_ cursor: JSONCursor, origin: Date, id fixedID: String? = nil) throws {
        let fields = try cursor.object(allowing: Self.keys)
        let id: String
        if let given = try fields["id"]?.string() {
            if let fixedID, given != fixedID {
                throw fields["id"]!.fail("the body's id \"\(given)\" differs from the path's \"\(fixedID)\"")
            }
            id = given
        } else if let fixedID {
            id = fixedID
        } else {
            throw cursor.fail("a device needs an \"id\"")
        }
        guard !id.isEmpty else { throw fields["id"]!.fail("the id must not be empty") }
        var hardware: Hardware?
        if let cursor = fields["hardware"], !cursor.isNull {
            let parts = try cursor.object(allowing: ["processor", "gpu", "total_memory_mb", "total_disk_space_mb"])
            hardware = Hardware(
                processor: try parts["processor"]?.optionalString(), gpu: try parts["gpu"]?.optionalString(),
                totalMemoryMB: try parts["total_memory_mb"].flatMap { $0.isNull ? nil : try $0.number() },
                totalDiskSpaceMB: try parts["total_disk_space_mb"].flatMap { $0.isNull ? nil : try $0.number() })
        }
        let heartbeatEvery = try fields["heartbeat_every"]?.duration() ?? 30
        guard heartbeatEvery > 0 else { throw fields["heartbeat_every"]!.fail("must be longer than 0s") }
        var online: [OnlineInterval] = []
        for interval in try fields["online"]?.array() ?? [] {
            let ends = try interval.array()
            guard ends.count == 2 else {
                throw interval.fail("expected [from, until] (until may be null), got \(ends.count) items")
            }
            let from = try ends[0].time(relativeTo: origin)
            let until = ends[1].isNull ? nil : try ends[1].time(relativeTo: origin)
            if let until, until < from { throw ends[1].fail("ends before its start") }
            online.append(OnlineInterval(from: from, until: until))
        }
        self.init(
            id: id, name: try fields["name"]?.optionalString(), type: try fields["type"]?.optionalString(),
            tags: try fields["tags"]?.strings() ?? [], rfdmVersion: try fields["rfdm_version"]?.optionalString(),
            hostname: try fields["hostname"]?.optionalString(), platform: try fields["platform"]?.optionalString(),
            platformRelease: try fields["platform_release"]?.optionalString(),
            platformVersion: try fields["platform_version"]?.optionalString(),
            architecture: try fields["architecture"]?.optionalString(), hardware: hardware,
            createdAt: try fields["created_at"].flatMap { $0.isNull ? nil : try $0.time(relativeTo: origin) },
            heartbeatEvery: heartbeatEvery, online: online)
    }
}

extension SimulatedDevice {
    /// Reads a device definition in the scenario file's form; relative times count from `origin`.
    /// - Parameter source: names the input in errors.
    public static func parse(_ value: JSONValue, source: String, origin: Date) throws -> SimulatedDevice {
        try SimulatedDevice(JSONCursor(value: value, path: "", source: source), origin: origin)
    }
}
