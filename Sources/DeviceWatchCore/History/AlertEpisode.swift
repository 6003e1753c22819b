import Foundation

/// One time an alert fired, from its firing to its resolve: a row of the alert history, which
/// outlives the alert itself (resolved alerts are forgotten soon after they are told), for
/// `devicewatch report alerts` and the status page's alert history. Written with the alert's
/// own durable changes, so it costs a cycle nothing more than a row per firing or resolving alert.
public struct AlertEpisode: Sendable, Equatable, Codable {
    public var key: AlertKey
    public var severity: Severity
    public var firedAt: Date
    /// Nil while it fires.
    public var resolvedAt: Date?
    public var resolveReason: ResolveReason?
    /// The device's name, or for a fleet alert its group's size in words ("12 of 20 devices").
    public var subject: String?
    /// For devicewatch's own alerts: what was wrong.
    public var message: String?
    /// Whether it flapped at some point while it fired.
    public var flapped: Bool

    public init(
        key: AlertKey, severity: Severity, firedAt: Date, resolvedAt: Date? = nil, resolveReason: ResolveReason? = nil,
        subject: String? = nil, message: String? = nil, flapped: Bool = false
    ) {
        self.key = key
        self.severity = severity
        self.firedAt = firedAt
        self.resolvedAt = resolvedAt
        self.resolveReason = resolveReason
        self.subject = subject
        self.message = message
        self.flapped = flapped
    }

    /// The episode an alert is in: nil for one that has not fired (pending).
    public init?(_ alert: AlertInstance) {
        guard let firedAt = alert.firingSince, alert.state != .pending else { return nil }
        let subject: String? =
            if let fleet = alert.fleet { "\(fleet.matching) of \(fleet.total) devices" } else { alert.device.name }
        self.init(
            key: alert.key, severity: alert.severity, firedAt: firedAt,
            resolvedAt: alert.state == .resolved ? alert.resolvedAt : nil,
            resolveReason: alert.state == .resolved ? alert.resolveReason : nil, subject: subject,
            message: alert.message, flapped: alert.flappingSince != nil)
    }

    /// Seconds it fired, up to `now` while it still does.
    public func duration(at now: Date) -> Double { (resolvedAt ?? now).timeIntervalSince(firedAt) }
}
