import DeviceWatchCore
import Foundation

/// What the worker's ticker, heartbeat and ops server need of whatever judges the fleet: the one
/// ``Engine`` of a single worker, or the engines of the workspaces a ``ClusterMember`` holds.
public protocol AlertJudge: Sendable {
    /// Plans what timers made due.
    func tick() async
    /// What the ops server shows, read at one moment.
    func snapshot() async -> Engine.Snapshot
    /// The API's clock per workspace, for silences added over the ops API.
    var clock: EngineClock { get async }
    /// The local time of the latest poll judged and committed (the heartbeat's evidence).
    var lastGoodPoll: Date? { get async }
}

extension Engine: AlertJudge {}
