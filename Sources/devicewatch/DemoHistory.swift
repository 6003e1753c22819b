import DeviceAPISimulator
import DeviceWatch
import DeviceWatchCore
import Foundation

/// The demo's past week: the scenario's fleet as it was over the seven days before the demo's
/// last three hours, judged by the real cycle with the demo's rules every five minutes and
/// committed to the demo's state store, so the status page's history, `report availability` and
/// `report alerts` have something to show the moment the demo starts. Its notifications are
/// recorded as delivered (they are history, not news); one two-hour stretch is left unpolled, as
/// if the worker had been down, and shows as no data.
enum DemoHistory {
    static let every: Duration = .minutes(5)

    /// - Returns: how many polls were replayed.
    static func backfill(
        _ scenario: Scenario, workspace: String, loaded: LoadedConfiguration, store: any StateStore, now: Date
    ) async throws -> Int {
        guard let fleet = scenario.workspaces[workspace] else { return 0 }
        let config = loaded.configuration
        let settings = AlertCycle.Settings(
            rules: loaded.rules, defaults: RoutingDefaults(config.defaults, metaReceivers: config.metaReceivers),
            staleAfter: config.defaults.staleAfter, pollEvery: [workspace: every])
        let start = now.addingTimeInterval(-7 * 86_400), end = now.addingTimeInterval(-3 * 3600)
        let down = DateInterval(start: now.addingTimeInterval(-(3 * 86_400 + 12 * 3600)), duration: 2 * 3600)
        var state = AlertState()
        var polls = 0
        var at = start
        while at < end {
            defer { at = at + every }
            if down.contains(at) { continue }
            let devices = fleet.devices.filter { ($0.createdAt ?? start) <= at }.map { $0.snapshot(at: at) }
            let (result, intents) = AlertCycle.run(
                &state, .poll(workspace: workspace, devices: devices, at: at), settings: settings)
            var changes = result.changes
            changes.intents = intents
            try await store.commit(changes, at: at)
            if !intents.isEmpty {
                try await store.record(intents.map { DeliveryRecord(id: $0.id, kind: .sent) }, at: at)
            }
            state.endCycle()
            polls += 1
        }
        return polls
    }
}
