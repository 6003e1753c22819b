import Foundation

/// Grouping and timing settings (the configuration's `defaults`, and `meta_receivers`).
public struct RoutingDefaults: Sendable, Equatable {
    public var groupBy: [String]
    public var groupWait: Double
    public var groupInterval: Double
    public var repeatEvery: Double
    public var sendResolved: Bool
    public var metaReceivers: [String]

    public init(_ defaults: Configuration.Defaults = .init(), metaReceivers: [String] = []) {
        groupBy = defaults.groupBy
        groupWait = defaults.groupWait
        groupInterval = defaults.groupInterval
        repeatEvery = defaults.repeatEvery
        sendResolved = defaults.sendResolved
        self.metaReceivers = metaReceivers
    }
}
