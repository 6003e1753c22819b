import DeviceWatchCore
import Foundation
import Testing

@testable import DeviceWatch

/// PagerDuty `per_group`: one event per notification group, not one per alert.
@Suite("PagerDuty per group")
struct PagerDutyGroupTests {
    let pagerduty = PagerDutyReceiver(
        name: "r", routingKey: Secret("R0UTINGKEY0000000000000000000000"), endpoint: "http://127.0.0.1:9/v2/enqueue",
        mode: .perGroup)

    @Test(arguments: ["firing", "resolved", "large", "fleet"])
    func payloadsMatchTheirGoldenFiles(group: String) throws {
        let intent = Fixed.group(group)
        try expectGolden("pagerduty-group-\(group)", body(pagerduty, intent))
    }

    @Test func aFiveHundredAlertGroupIsOneEventWithinTheLimits() throws {
        let events = try body(pagerduty, Fixed.largeGroup)
        #expect(events.count == 1)
        let event = try json(events[0])
        #expect(event["event_action"] as? String == "trigger")
        let payload = try #require(event["payload"] as? [String: Any])
        let summary = try #require(payload["summary"] as? String)
        #expect(summary.hasPrefix("production-offline: 500 firing ("))
        #expect(summary.utf16.count <= 1024)
        #expect(summary.contains(" more)"))
        let details = try #require(payload["custom_details"] as? [String: String])
        #expect(details.values.allSatisfy { $0.utf16.count <= 1024 })
        #expect(details["alerts"] == "500 firing")
        #expect(details["members"]?.hasSuffix(" more") == true)
    }

    @Test func theGroupsTriggerAndResolveShareOneDedupKeyApartFromOtherGroups() throws {
        let trigger = try json(body(pagerduty, Fixed.firingGroup)[0])
        let resolve = try json(body(pagerduty, Fixed.resolvedGroup)[0])
        #expect(resolve["event_action"] as? String == "resolve")
        #expect(resolve["payload"] == nil)
        let key = try #require(trigger["dedup_key"] as? String)
        #expect(resolve["dedup_key"] as? String == key)
        #expect(key.count <= 255)
        var other = Fixed.firingGroup
        other.groupKey = "{rule=\"other\"}"
        #expect(try json(body(pagerduty, other)[0])["dedup_key"] as? String != key)
        // Another receiver's group of the same key is another incident.
        let second = PagerDutyReceiver(name: "second", routingKey: Secret("K"), mode: .perGroup)
        #expect(try json(body(second, Fixed.firingGroup)[0])["dedup_key"] as? String != key)
    }

    @Test func aResolveWhileOthersStillFireKeepsTheIncidentOpen() throws {
        let partly = Fixed.intent(
            firing: [Fixed.alert(2)], resolved: [Fixed.alert(1, status: .resolved)], reason: .changed)
        let event = try json(body(pagerduty, partly)[0])
        #expect(event["event_action"] as? String == "trigger")
        let details = try #require((event["payload"] as? [String: Any])?["custom_details"] as? [String: String])
        #expect(details["alerts"] == "1 firing, 1 resolved")
    }

    @Test func hostileDeviceTextStaysInert() throws {
        let text = String(decoding: try body(pagerduty, Fixed.hostile)[0], as: UTF8.self)
        #expect(!text.contains("https://evil"))
    }

    @Test func theModeIsCheckedByTheLoader() throws {
        let parsed = ConfigurationParser.parse(
            #"{"workspaces": [{"id": "a"}], "receivers": {"p": {"type": "pagerduty", "routing_key_env": "K", "mode": "per_incident"}}}"#,
            file: "devicewatch.json")
        #expect(parsed.diagnostics.contains { $0.message.contains("per_group") })
    }
}
