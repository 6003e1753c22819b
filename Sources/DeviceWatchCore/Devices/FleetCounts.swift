/// How many devices of a workspace are online, offline and unknown at its latest poll.
public struct FleetCounts: Sendable, Equatable, Codable {
    public var online = 0
    public var offline = 0
    public var unknown = 0
    /// Devices with no status or one this version does not know.
    public var other = 0

    public init() {}

    public init(_ devices: [Device]) {
        for device in devices {
            switch device.status {
            case .online: online += 1
            case .offline: offline += 1
            case .unknown: unknown += 1
            case .other, .none: other += 1
            }
        }
    }

    public var total: Int { online + offline + unknown + other }

    /// Each status with its count, in a fixed order (for metrics and the status page).
    public var byStatus: [(status: String, count: Int)] {
        [("online", online), ("offline", offline), ("unknown", unknown), ("other", other)]
    }
}
