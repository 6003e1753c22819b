/// A device's connectivity as the Devices API reports it; values the API adds later are kept, not dropped.
public enum DeviceStatus: Sendable, Hashable, CustomStringConvertible {
    /// A heartbeat arrived within the last 5 minutes.
    case online
    /// The last heartbeat is older than 5 minutes.
    case offline
    /// No heartbeat was ever recorded (a newly provisioned device).
    case unknown
    /// A status value this version of devicewatch does not know.
    case other(String)

    public init(rawValue: String) {
        switch rawValue {
        case "online": self = .online
        case "offline": self = .offline
        case "unknown": self = .unknown
        default: self = .other(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .online: "online"
        case .offline: "offline"
        case .unknown: "unknown"
        case .other(let value): value
        }
    }

    public var description: String { rawValue }
}
