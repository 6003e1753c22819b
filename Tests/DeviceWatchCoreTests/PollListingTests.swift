import DeviceWatchCore
import Foundation
import Testing

/// A poll that lists the same devices in the same order as the one before is recognised by
/// position (no lookup by id); every cycle here is also checked against the reference diff by
/// the ``Harness``.
@Suite("A poll's devices, recognised by position")
struct PollListingTests {
    static func logged(_ h: Harness) -> [String] {
        h.state.changes.statusChanges.map { "\($0.deviceID) \($0.statusText)" }
    }

    static func named(_ device: Device, _ name: String) -> Device {
        var renamed = device
        renamed.name = name
        return renamed
    }

    @Test func aListAsBeforeChangesNothingAndEveryDifferenceIsFound() {
        var h = Harness([offlineRule])
        let d1 = Harness.online("d1", at: -10), d2 = Harness.online("d2", at: -10), d3 = Harness.online("d3", at: -10)
        _ = h.cycle(0, [d1, d2, d3])
        #expect(Self.logged(h) == ["d1 online", "d2 online", "d3 online"])
        _ = h.cycle(30, [d1, d2, d3])
        #expect(Self.logged(h).isEmpty && h.state.changes.addFirstSeen.isEmpty && h.state.changes.upsertFacts.isEmpty)
        // Same places, one device's facts changed.
        _ = h.cycle(60, [d1, Self.named(d2, "dock"), d3])
        #expect(Self.logged(h).isEmpty && h.state.changes.upsertFacts.map(\.deviceID) == ["d2"])
        // The same devices in another order: nothing changed.
        _ = h.cycle(90, [d3, d1, Self.named(d2, "dock")])
        #expect(Self.logged(h).isEmpty && h.state.changes.upsertFacts.isEmpty)
        // Same places, one status changed (the device stopped reporting), then one device gone.
        let quiet = Device(id: "d1", name: "cam d1", status: .offline, lastHeartbeat: Harness.t0, tags: ["production"])
        _ = h.cycle(120, [d3, quiet, Self.named(d2, "dock")])
        #expect(Self.logged(h) == ["d1 offline"])
        _ = h.cycle(150, [d3, quiet])
        #expect(Self.logged(h) == ["d2 gone"] && h.state.changes.deleteFirstSeen.map(\.deviceID) == ["d2"])
        // One device listed twice: a second poll alike changes nothing either.
        _ = h.cycle(180, [d3, quiet, quiet])
        _ = h.cycle(210, [d3, quiet, quiet])
        #expect(Self.logged(h).isEmpty && h.state.changes.addFirstSeen.isEmpty)
    }

    /// A cycle whose commit failed is rolled back; the next poll, listing the same devices, must
    /// find the same changes again (the book holds the state before them, whatever the last
    /// poll's list said).
    @Test func aRolledBackPollsChangesAreFoundAgainFromTheSameList() {
        var h = Harness([offlineRule])
        let before = [Harness.online("d1", at: -10), Harness.online("d2", at: -10)]
        _ = h.cycle(0, before)
        _ = h.cycle(30, before)
        let after = [Harness.online("d1", at: 50), Harness.offline("d2", since: 40), Harness.online("d3", at: 50)]
        _ = h.cycle(60, after)
        #expect(Self.logged(h) == ["d2 offline", "d3 online"])
        h.rollBack()
        _ = h.cycle(90, after)
        #expect(Self.logged(h) == ["d2 offline", "d3 online"])
        #expect(h.state.changes.addFirstSeen.map(\.deviceID) == ["d3"])
        _ = h.cycle(120, after)
        #expect(Self.logged(h).isEmpty)
    }

    /// A poll that leaves every alert as the previous plan saw it plans nothing (the ``Harness``
    /// checks each such cycle against a full plan); a device's tags moving it to another group,
    /// or a repeat coming due, is planned.
    @Test func aQuietPollPlansNothingButWhatPlanningReadsIsPlanned() {
        var h = Harness([offlineRule], repeatEvery: .hours(1))
        var config = Configuration.Defaults()
        config.groupWait = .zero
        config.groupBy = ["tag:site-*"]
        config.repeatEvery = .hours(1)
        h.defaults = RoutingDefaults(config, metaReceivers: ["ops"])
        let down = Harness.offline("d1", since: -700, tags: ["production", "site-a"])
        let up = Harness.online("d2", at: -10)
        #expect(h.cycle(0, [down, up]).intents.map(\.receiver) == ["chat", "pager"])
        #expect(h.cycle(30, [down, Harness.online("d2", at: 20)]).intents.isEmpty)
        #expect(h.cycle(60, [down, Harness.online("d2", at: 50)]).intents.isEmpty)
        #expect(h.plansSkipped == 2)
        // The camera is moved to site b: its alert belongs to another group, told at once.
        let moved = Harness.offline("d1", since: -700, tags: ["production", "site-b"])
        let regrouped = h.cycle(90, [moved, Harness.online("d2", at: 80)]).intents
        #expect(regrouped.map(\.groupKey).allSatisfy { $0.contains("site-b") } && regrouped.count == 2)
        #expect(h.plansSkipped == 2)
        #expect(h.cycle(120, [moved, Harness.online("d2", at: 110)]).intents.isEmpty)
        #expect(h.plansSkipped == 3)
        // Later, with nothing changed, what came due is planned: site a's resolve, and site b's
        // repeat an hour after it was told.
        let later = h.cycle(3700, [moved, Harness.online("d2", at: 3690)]).intents
        #expect(
            later.map { "\($0.reason) \($0.groupKey.contains("site-b") ? "b" : "a")" }.sorted() == [
                "repeat b", "repeat b", "resolved a", "resolved a",
            ])
        #expect(h.plansSkipped == 3)
    }

    /// An untold alert recovering through `keep_firing_for` is kept quiet; when its condition
    /// holds again (the device as before but for its heartbeat), planning must see it and tell it.
    @Test func anAlertWhoseConditionHoldsAgainWhileRecoveringIsPlanned() {
        var rule = offlineRule
        rule.keepFiringFor = .seconds(300)
        var h = Harness([rule], groupWait: .seconds(60))
        func heard(_ seconds: Double) -> Device {
            Device(
                id: "d1", name: "cam d1", lastHeartbeat: Harness.t0.addingTimeInterval(seconds), tags: ["production"])
        }
        #expect(h.cycle(0, [heard(-700)]).intents.isEmpty)  // waiting group_wait
        #expect(h.cycle(30, [heard(29)]).intents.isEmpty)  // heard again: recovering
        #expect(h.cycle(90, [heard(89)]).intents.isEmpty)  // group_wait over, but recovering: quiet
        #expect(h.cycle(100, [heard(99)]).intents.isEmpty)
        let skipped = h.plansSkipped
        #expect(skipped >= 1)
        // Unheard for long again (the same device but for its heartbeat): it fires on, told now.
        #expect(h.cycle(120, [heard(-700)]).intents.map(\.receiver) == ["chat", "pager"])
        #expect(h.plansSkipped == skipped)
    }
}
