import Foundation

/// What a report groups a device by, kept in the state store as it last was (a row per device,
/// written when its facts change, not per poll): its name, type, platform and tags. Kept after
/// the device leaves the list, so a report on a past window still names and groups it.
public struct KnownDevice: Sendable, Equatable, Codable {
    public var workspace: String
    public var deviceID: String
    public var name: String?
    public var type: String?
    public var platform: String?
    public var tags: [String]

    public init(
        workspace: String, deviceID: String, name: String? = nil, type: String? = nil, platform: String? = nil,
        tags: [String] = []
    ) {
        self.workspace = workspace
        self.deviceID = deviceID
        self.name = name
        self.type = type
        self.platform = platform
        self.tags = tags
    }

    public init(workspace: String, device: Device) {
        self.init(
            workspace: workspace, deviceID: device.id, name: device.name, type: device.type,
            platform: device.platform, tags: device.tags)
    }

    /// A digest of the facts for telling, poll by poll, whether they changed (in this process:
    /// Swift's hashing is seeded per process, so digests are never stored, only recomputed).
    public var digest: Int { Self.digest(name: name, type: type, platform: platform, tags: tags) }

    public static func digest(of device: Device) -> Int {
        digest(name: device.name, type: device.type, platform: device.platform, tags: device.tags)
    }

    static func digest(name: String?, type: String?, platform: String?, tags: [String]) -> Int {
        var hasher = Hasher()
        hasher.combine(name)
        hasher.combine(type)
        hasher.combine(platform)
        hasher.combine(tags)
        return hasher.finalize()
    }
}
