import Foundation

/// One edge device as the Deployment Manager Devices API describes it.
///
/// Every field but `id` may be missing or null: newly provisioned devices carry little
/// more than an id, a name and `created_at` until their first heartbeat.
public struct Device: Sendable, Equatable {
    public var id: String
    public var name: String?
    public var status: DeviceStatus?
    public var lastHeartbeat: Date?
    public var platform: String?
    public var platformRelease: String?
    public var platformVersion: String?
    public var architecture: String?
    public var hostname: String?
    /// Version of the Roboflow Device Manager agent.
    public var rfdmVersion: String?
    /// The device type it reports, e.g. `jetson`.
    public var type: String?
    public var hardware: Hardware?
    public var tags: [String]
    public var createdAt: Date?

    public init(
        id: String, name: String? = nil, status: DeviceStatus? = nil, lastHeartbeat: Date? = nil,
        platform: String? = nil, platformRelease: String? = nil, platformVersion: String? = nil,
        architecture: String? = nil, hostname: String? = nil, rfdmVersion: String? = nil, type: String? = nil,
        hardware: Hardware? = nil, tags: [String] = [], createdAt: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.status = status
        self.lastHeartbeat = lastHeartbeat
        self.platform = platform
        self.platformRelease = platformRelease
        self.platformVersion = platformVersion
        self.architecture = architecture
        self.hostname = hostname
        self.rfdmVersion = rfdmVersion
        self.type = type
        self.hardware = hardware
        self.tags = tags
        self.createdAt = createdAt
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

    public init(processor: String? = nil, gpu: String? = nil, totalMemoryMB: Double? = nil, totalDiskSpaceMB: Double? = nil) {
        self.processor = processor
        self.gpu = gpu
        self.totalMemoryMB = totalMemoryMB
        self.totalDiskSpaceMB = totalDiskSpaceMB
    }
}
