import Foundation

/// Every alert instance and what is known about each workspace's devices: the state the
/// lifecycle works on. Pure data; the shell persists it.
public struct AlertBook: Sendable, Equatable {
    public var alerts: [AlertKey: AlertInstance] = [:]
    /// When devicewatch first saw each device, per workspace (for `unknown_for` without `created_at`).
    public var firstSeen: [String: [String: Date]] = [:]
    /// Poll health per workspace (blind spots).
    public var health: [String: WorkspaceHealth] = [:]

    public init() {}
}

/// Whether a workspace can be seen, and since when it cannot.
public struct WorkspaceHealth: Sendable, Equatable, Codable {
    public var lastSuccess: Date?
    public var failingSince: Date?
    /// Why the latest poll failed, in words a person acts on.
    public var failure: String?
    /// The latest failure was a 401/403: the meta alert fires at once.
    public var authFailure = false

    public init(lastSuccess: Date? = nil, failingSince: Date? = nil, failure: String? = nil, authFailure: Bool = false) {
        self.lastSuccess = lastSuccess
        self.failingSince = failingSince
        self.failure = failure
        self.authFailure = authFailure
    }
}
