import DeviceWatch
import DeviceWatchCore
import Foundation

/// The demo's on-call person: a few fleet minutes after the first alert fires, "alice"
/// acknowledges it (as `devicewatch ack` would), so it repeats and escalates no further while
/// the alerts nobody acknowledged escalate to `email-managers`.
enum DemoOnCall {
    /// Waits for a firing alert in the demo's state, then acknowledges the first one.
    /// - Parameter delay: real seconds to wait after it fires (five fleet minutes).
    static func acknowledgeFirst(statePath: String, delay: Double) async {
        guard let store = try? SQLiteStateStore(path: statePath) else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(500))
            guard let state = try? await store.load(),
                let alert = state.book.alerts.values.filter({ $0.state == .firing && !$0.isMeta }).min(by: {
                    $0.key < $1.key
                })
            else { continue }
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            let clock = EngineClock((try? await store.clockOffsets()) ?? [])
            let request = Acknowledgement.Request(
                target: .alert(fingerprint: alert.fingerprint), author: "alice (demo on-call)",
                comment: "on it: no need to escalate")
            guard
                case .success(let acknowledgement) = request.acknowledgement(
                    id: Silence.newID(), alerts: (try? await store.load())?.book.alerts ?? [:], groups: [],
                    at: clock.now(local: Date(), workspace: alert.key.workspace)),
                (try? await store.addAcknowledgement(acknowledgement)) != nil
            else { return }
            FileHandle.standardOutput.write(
                Data(
                    """
                    demo: alice acknowledged \(alert.key.ruleID) on \(InertText.line(alert.device.displayName)) \
                    (devicewatch ack \(alert.fingerprint) --comment "on it"): it repeats and escalates no further; \
                    alerts nobody acknowledges escalate to email-managers 10 fleet minutes after they fire.

                    """.utf8))
            return
        }
    }
}
