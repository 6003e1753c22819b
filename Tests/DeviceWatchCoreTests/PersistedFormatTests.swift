import DeviceWatchCore
import Foundation
import Testing

/// State written by earlier versions still reads back the same.
@Suite("Persisted formats")
struct PersistedFormatTests {
    @Test func aGroupWrittenWithItsKeyLabelDictionaryAndToldSetReadsBack() throws {
        // As the store wrote a group before groups kept labels as pairs, told alerts as a sorted
        // array and the key only inside the id (JSONEncoder, sorted keys, dates since 2001).
        let old = #"""
            {"createdAt":786016800,"groupKey":"{device=\"d1\",site=\"b\"}","id":"chat:{device=\"d1\",site=\"b\"}",\#
            "labels":{"site":"b","device":"d1"},"lastSentAt":786017100,"receiver":"chat","sequence":2,\#
            "told":[{"deviceID":"d2","ruleID":"offline","workspace":"acme"},{"deviceID":"d1","ruleID":"offline","workspace":"acme"}]}
            """#
        let group = try JSONDecoder().decode(NotificationGroup.self, from: Data(old.utf8))
        #expect(group.id == #"chat:{device="d1",site="b"}"#)
        #expect(group.receiver == "chat")
        #expect(group.groupKey == #"{device="d1",site="b"}"#)
        #expect(group.labels == ["device": "d1", "site": "b"])
        #expect(group.labels.dictionary == ["device": "d1", "site": "b"])
        #expect(group.told.keys == ["d1", "d2"].map { AlertKey(workspace: "acme", ruleID: "offline", deviceID: $0) })
        #expect(group.sequence == 2)
        #expect(group.createdAt == Date(timeIntervalSinceReferenceDate: 786_016_800))
        // And what is written now reads back equal.
        #expect(try JSONDecoder().decode(NotificationGroup.self, from: JSONEncoder().encode(group)) == group)
    }

    @Test func anAlertWrittenWithBuiltInLabelsReadsBackWithTheRulesOwn() throws {
        let key = AlertKey(workspace: "acme", ruleID: "offline", deviceID: "d1")
        let alert = AlertInstance(
            key: key, state: .firing, severity: .critical,
            labels: ["rule": "offline", "workspace": "acme", "device": "d1", "severity": "critical", "team": "vision"],
            activeSince: Date(timeIntervalSince1970: 0), firingSince: Date(timeIntervalSince1970: 0),
            lastTrue: Date(timeIntervalSince1970: 60),
            resolvedAt: nil, resolveReason: nil, device: Device(id: "d1"), evaluatedAt: Date(timeIntervalSince1970: 60),
            firstSeen: nil)
        #expect(
            alert.labels == [
                "rule": "offline", "workspace": "acme", "device": "d1", "severity": "critical", "team": "vision",
            ])
        #expect(alert.label("team") == "vision")
        #expect(alert.label("device") == "d1")
        #expect(alert.label("missing") == nil)
        #expect(alert.fingerprint == Fingerprint.of(workspace: "acme", ruleID: "offline", deviceID: "d1"))
        let meta = AlertInstance(
            key: AlertKey(workspace: "acme", ruleID: "devicewatch.workspace_unreachable", deviceID: ""), state: .firing,
            severity: .critical, labels: [:], activeSince: .distantPast, firingSince: nil, lastTrue: .distantPast,
            resolvedAt: nil,
            resolveReason: nil, device: Device(id: ""), evaluatedAt: .distantPast, firstSeen: nil)
        #expect(
            meta.labels == ["rule": "devicewatch.workspace_unreachable", "workspace": "acme", "severity": "critical"])
        // The JSON the store writes (all labels) and JSONEncoder's (the rule's own) read back equal.
        #expect(try JSONDecoder().decode(AlertInstance.self, from: alert.jsonData) == alert)
        #expect(try JSONDecoder().decode(AlertInstance.self, from: JSONEncoder().encode(alert)) == alert)
    }
}
