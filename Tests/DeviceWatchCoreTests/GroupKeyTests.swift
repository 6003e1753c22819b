import DeviceWatchCore
import Foundation
import Testing

/// `group_by` over the device's facts and tags: a notification group per site, per device type.
@Suite("Group keys from tags and device facts")
struct GroupKeyTests {
    static let t0 = Timestamp.parse("2026-11-28T12:00:00Z")!

    /// The groups one poll of `devices` plans, by group key, with the devices in each.
    func groups(_ groupBy: [String], _ devices: [Device]) -> [String: [String]] {
        let rules = RuleSet([
            Rule(
                id: "offline", severity: .critical, condition: .offlineFor(.seconds(600)), notify: ["pager"],
                groupBy: groupBy)
        ])
        var defaults = Configuration.Defaults()
        defaults.groupWait = .seconds(0)
        var state = AlertState()
        let planned = AlertCycle.run(
            &state, .poll(workspace: "acme", devices: devices, at: Self.t0),
            settings: AlertCycle.Settings(rules: rules, defaults: RoutingDefaults(defaults))
        ).intents
        return Dictionary(
            planned.map { ($0.groupKey, $0.firing.map(\.key.deviceID).sorted()) }, uniquingKeysWith: { $0 + $1 })
    }

    func offline(_ id: String, tags: [String] = [], type: String? = nil, platform: String? = nil) -> Device {
        Device(
            id: id, status: .offline, lastHeartbeat: Self.t0.addingTimeInterval(-3600), platform: platform,
            type: type, tags: tags)
    }

    @Test func aTagPatternGroupsBySiteWithNoneForDevicesWithoutAndTheFirstSortedOfSeveral() {
        let found = groups(
            ["tag:site-*"],
            [
                offline("cam-1", tags: ["production", "site-b"]), offline("cam-2", tags: ["site-b"]),
                offline("cam-3", tags: ["site-a"]), offline("cam-4", tags: ["production"]),
                // Two sites (a mistake in the fleet's tags): the first in sorted order.
                offline("cam-5", tags: ["site-z", "site-c"]),
            ])
        #expect(
            found == [
                #"{tag:site-*="site-b"}"#: ["cam-1", "cam-2"], #"{tag:site-*="site-a"}"#: ["cam-3"],
                #"{tag:site-*="(none)"}"#: ["cam-4"], #"{tag:site-*="site-c"}"#: ["cam-5"],
            ])
    }

    @Test func typeAndPlatformGroupWithNoneForAMissingFact() {
        let found = groups(
            ["type", "rule"],
            [offline("j-1", type: "jetson"), offline("j-2", type: "jetson"), offline("x-1", type: ""), offline("x-2")])
        #expect(
            found == [
                #"{rule="offline",type="jetson"}"#: ["j-1", "j-2"], #"{rule="offline",type="(none)"}"#: ["x-1", "x-2"],
            ])
        #expect(groups(["platform"], [offline("a", platform: "linux")]).keys.first == #"{platform="linux"}"#)
    }

    @Test func theParserAcceptsTheNewEntriesAndExplainsAWrongOne() {
        for entry in ["type", "platform", "architecture", "tag:site-*", "label:team", "rule"] {
            #expect(GroupKey.isValid(entry), "\(entry)")
        }
        for entry in ["tag:", "label:", "tags", "site"] { #expect(!GroupKey.isValid(entry), "\(entry)") }
        #expect(GroupKey.problem("typ").hasSuffix(#"did you mean "type"?"#))
        let parsed = RuleParser.parse(
            #"{"rules": [{"id": "a", "when": {"offline_for": "5m"}, "group_by": ["tag:site-*", "tpe"]}]}"#,
            file: "r.json")
        #expect(parsed.diagnostics.count == 1)
        #expect(parsed.diagnostics.first?.description.contains(#"got "tpe"; did you mean "type"?"#) == true)
    }
}
