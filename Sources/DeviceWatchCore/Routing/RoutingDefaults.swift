import Foundation

/// Grouping and timing settings (the configuration's `defaults`, and `meta_receivers`).
public struct RoutingDefaults: Sendable, Equatable {
    public var groupBy: [String]
    public var groupWait: Double
    public var groupInterval: Double
    public var repeatEvery: Double
    public var sendResolved: Bool
    public var metaReceivers: [String]
    /// Every group is of one workspace (`workspace` is added to any `group_by` without it): on
    /// PostgreSQL with several workers, where each workspace is planned by the worker holding it.
    public var groupsPerWorkspace = false

    public init(
        _ defaults: Configuration.Defaults = .init(), metaReceivers: [String] = [], groupsPerWorkspace: Bool = false
    ) {
        self.groupsPerWorkspace = groupsPerWorkspace
        groupBy = defaults.groupBy
        groupWait = defaults.groupWait
        groupInterval = defaults.groupInterval
        repeatEvery = defaults.repeatEvery
        sendResolved = defaults.sendResolved
        self.metaReceivers = metaReceivers
    }
}
