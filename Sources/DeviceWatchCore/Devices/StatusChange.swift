import Foundation

/// One change of one device's status, at a poll's time on the API's clock: a row of the device
/// status log, which keeps a row per change (never per poll) for flapping, fleet history and
/// availability.
public struct StatusChange: Sendable, Equatable, CustomStringConvertible {
    public var workspace: String
    public var deviceID: String
    /// The status from `at` on; nil: the device is no longer listed (`gone`).
    public var status: DeviceStatus?
    public var at: Date

    public init(workspace: String, deviceID: String, status: DeviceStatus?, at: Date) {
        self.workspace = workspace
        self.deviceID = deviceID
        self.status = status
        self.at = at
    }

    /// The text a store keeps: the status's own, or `gone`.
    public var statusText: String { status?.rawValue ?? Self.gone }

    /// What a store keeps for a device no longer listed.
    public static let gone = "gone"

    /// A change as a store keeps it.
    public init(workspace: String, deviceID: String, statusText: String, at: Date) {
        self.init(
            workspace: workspace, deviceID: deviceID,
            status: statusText == Self.gone ? nil : DeviceStatus(rawValue: statusText), at: at)
    }

    public var description: String { "\(workspace)/\(deviceID) \(statusText) at \(Timestamp.format(at))" }
}

extension Device {
    /// The status the log records: the API's, or, where the API gives none, what its rule would
    /// say (no heartbeat ever: unknown; a heartbeat within 5 minutes of `now`: online; else offline).
    public func observedStatus(at now: Date) -> DeviceStatus {
        if let status { return status }
        guard let lastHeartbeat else { return .unknown }
        return now.timeIntervalSince(lastHeartbeat) <= 300 ? .online : .offline
    }
}

/// Which part of the device status log to read.
public struct StatusLogQuery: Sendable, Equatable {
    public var workspace: String?
    public var deviceID: String?
    public var since: Date?
    public var until: Date?
    /// Rows by workspace, device and time (the log's own key order: nothing to sort, for
    /// reading a month of a large fleet) instead of oldest first.
    public var byDevice: Bool

    public init(
        workspace: String? = nil, deviceID: String? = nil, since: Date? = nil, until: Date? = nil,
        byDevice: Bool = false
    ) {
        self.workspace = workspace
        self.deviceID = deviceID
        self.since = since
        self.until = until
        self.byDevice = byDevice
    }
}

/// A window of the device status log.
public struct StatusHistory: Sendable, Equatable {
    /// Each device's newest row before the window's start, in workspace and device order
    /// (`gone` ones left out): its status as the window begins. Empty without a `since`.
    public var atStart: [StatusChange]
    /// The rows within the window, oldest first (then by workspace and device), or with
    /// ``StatusLogQuery/byDevice`` by workspace, device and time.
    public var changes: [StatusChange]

    public init(atStart: [StatusChange] = [], changes: [StatusChange] = []) {
        self.atStart = atStart
        self.changes = changes
    }
}
