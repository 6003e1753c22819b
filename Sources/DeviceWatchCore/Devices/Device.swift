import Foundation

/// One edge device as the Deployment Manager Devices API describes it.
///
/// Every field but `id` may be missing or null: newly provisioned devices carry little
/// more than an id, a name and `created_at` until their first heartbeat.
///
/// A value type whose fields live in one shared box, copied only when written: a device is
/// copied into each finding, alert, snapshot and notification of a cycle, and a 10,000-device
/// outage would otherwise copy its 264 bytes of fields into every one of them.
public struct Device: Sendable, Equatable {
    private struct Fields: Equatable {
        var id: String
        var name: String?
        var status: DeviceStatus?
        var lastHeartbeat: Date?
        var platform: String?
        var platformRelease: String?
        var platformVersion: String?
        var architecture: String?
        var hostname: String?
        var rfdmVersion: String?
        var type: String?
        var hardware: Hardware?
        var tags: [String]
        var createdAt: Date?
    }

    // Written only while uniquely referenced (see `update`), so sharing it across threads is safe.
    private final class Box: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    private mutating func update(_ change: (inout Fields) -> Void) {
        if !isKnownUniquelyReferenced(&box) { box = Box(box.fields) }
        change(&box.fields)
    }

    public static func == (lhs: Device, rhs: Device) -> Bool {
        lhs.box === rhs.box || lhs.box.fields == rhs.box.fields
    }

    /// Equal in everything but the last heartbeat, which moves at every poll of an online device.
    public func equalsIgnoringHeartbeat(_ other: Device) -> Bool {
        guard box !== other.box else { return true }
        var mine = box.fields
        mine.lastHeartbeat = other.box.fields.lastHeartbeat
        return mine == other.box.fields
    }

    public var id: String {
        get { box.fields.id }
        set { update { $0.id = newValue } }
    }
    public var name: String? {
        get { box.fields.name }
        set { update { $0.name = newValue } }
    }
    public var status: DeviceStatus? {
        get { box.fields.status }
        set { update { $0.status = newValue } }
    }
    public var lastHeartbeat: Date? {
        get { box.fields.lastHeartbeat }
        set { update { $0.lastHeartbeat = newValue } }
    }
    public var platform: String? {
        get { box.fields.platform }
        set { update { $0.platform = newValue } }
    }
    public var platformRelease: String? {
        get { box.fields.platformRelease }
        set { update { $0.platformRelease = newValue } }
    }
    public var platformVersion: String? {
        get { box.fields.platformVersion }
        set { update { $0.platformVersion = newValue } }
    }
    public var architecture: String? {
        get { box.fields.architecture }
        set { update { $0.architecture = newValue } }
    }
    public var hostname: String? {
        get { box.fields.hostname }
        set { update { $0.hostname = newValue } }
    }
    /// Version of the Roboflow Device Manager agent.
    public var rfdmVersion: String? {
        get { box.fields.rfdmVersion }
        set { update { $0.rfdmVersion = newValue } }
    }
    /// The device type it reports, e.g. `jetson`.
    public var type: String? {
        get { box.fields.type }
        set { update { $0.type = newValue } }
    }
    public var hardware: Hardware? {
        get { box.fields.hardware }
        set { update { $0.hardware = newValue } }
    }
    public var tags: [String] {
        get { box.fields.tags }
        set { update { $0.tags = newValue } }
    }
    public var createdAt: Date? {
        get { box.fields.createdAt }
        set { update { $0.createdAt = newValue } }
    }

    public init(
        id: String, name: String? = nil, status: DeviceStatus? = nil, lastHeartbeat: Date? = nil,
        platform: String? = nil, platformRelease: String? = nil, platformVersion: String? = nil,
        architecture: String? = nil, hostname: String? = nil, rfdmVersion: String? = nil, type: String? = nil,
        hardware: Hardware? = nil, tags: [String] = [], createdAt: Date? = nil
    ) {
        box = Box(
            Fields(
                id: id, name: name, status: status, lastHeartbeat: lastHeartbeat, platform: platform,
                platformRelease: platformRelease,
                platformVersion: platformVersion, architecture: architecture, hostname: hostname,
                rfdmVersion: rfdmVersion, type: type,
                hardware: hardware, tags: tags, createdAt: createdAt))
    }

    /// The name when the device has one, else its id: what a person reads.
    public var displayName: String { name.flatMap { $0.isEmpty ? nil : $0 } ?? id }
}

/// What the device reports about its hardware.
public struct Hardware: Sendable, Equatable {
    public var processor: String?
    public var gpu: String?
    public var totalMemoryMB: Double?
    public var totalDiskSpaceMB: Double?

    public init(
        processor: String? = nil, gpu: String? = nil, totalMemoryMB: Double? = nil, totalDiskSpaceMB: Double? = nil
    ) {
        self.processor = processor
        self.gpu = gpu
        self.totalMemoryMB = totalMemoryMB
        self.totalDiskSpaceMB = totalDiskSpaceMB
    }
}
