import DeviceWatchCore
import Foundation

/// An alert as receivers tell it: the text fixed when its notification was planned (for older
/// notifications and devicewatch's own alerts, ``RuleSet/withText(_:)`` fills it in first), every
/// piece of device- or API-controlled text inert (``InertText``); receivers escape their own
/// markup on top.
extension AlertSnapshot {
    var deviceName: String { InertText.line(device.displayName) }

    /// The device's id; a fleet alert stands for its group, so its size goes there.
    var deviceID: String { fleet.map { "group of \($0.total)" } ?? InertText.line(device.id) }

    /// What the notification says of it. A rule's summary describes the problem ("offline for
    /// 17m"); rendered with a recovered device's facts it would read "offline for 6s", so a
    /// resolve says what resolved instead.
    var summary: String {
        if status == .resolved, message == nil { return "\(deviceName): \(key.ruleID) resolved" }
        if let text { return text.summary }
        if let message { return InertText.block(message) }
        return "\(key.ruleID) on \(deviceName)"
    }

    /// The rule's description, rendered with the values the summary sees; nil without one.
    var description: String? { text?.description }

    /// Why a firing alert matched, and who acknowledged it (empty once resolved).
    var reasons: [String] {
        guard status == .firing else { return [] }
        return (text?.reasons ?? []) + (acknowledgement.map { [$0.text] } ?? [])
    }

    var isFiring: Bool { status != .resolved }

    /// Why it resolved, inert (`recovered`, `device removed`, ...).
    var resolveReasonText: String { InertText.line(resolveReason ?? "recovered") }

    /// The values a Mustache template sees for one alert, each string escaped by `escape` (the
    /// receiver's markup), so a template's own text may be markup while device text stays inert.
    func templateValues(escaping escape: (String) -> String) -> [String: Any] {
        var values: [String: Any] = [
            "id": escape(deviceID), "name": escape(deviceName),
            "tags": escape(InertText.line(device.tags.joined(separator: ", "))),
        ]
        for (key, value) in [
            ("hostname", device.hostname), ("rfdm_version", device.rfdmVersion), ("type", device.type),
        ] {
            if let value { values[key] = escape(InertText.line(value)) }
        }
        if let heartbeat = device.lastHeartbeat { values["last_heartbeat"] = Timestamp.format(heartbeat) }
        var alert: [String: Any] = [
            "summary": escape(summary), "severity": severity.rawValue, "rule": key.ruleID,
            "workspace": escape(key.workspace), "fingerprint": fingerprint,
            "status": isFiring ? "firing" : "resolved",
            "starts_at": Timestamp.format(startsAt), "device": values,
            "reasons": escape(reasons.joined(separator: "; ")),
            "labels": labels.mapValues { escape(InertText.line($0)) },
        ]
        if let description { alert["description"] = escape(description) }
        if let group = fleet {
            alert["group"] =
                [
                    "key": escape(InertText.line(group.group)), "total": group.total, "matching": group.matching,
                    "percent": FleetFacts.percent(group.fraction),
                    "members": escape(group.memberList(fitting: TextLimit(2000))),
                ] as [String: Any]
        }
        if let ends = endsAt { alert["ends_at"] = Timestamp.format(ends) }
        if resolveReason != nil { alert["resolve_reason"] = escape(resolveReasonText) }
        return alert
    }
}

extension FleetFacts {
    /// The members meeting the rule's condition (those that do not, with `all`) as one line,
    /// `name (id) status; ...`, every name inert, cut between members to fit `limit` with the
    /// rest counted (`; and 12 more`).
    func memberList(fitting limit: TextLimit, all: Bool = false) -> String {
        let shown = all ? members : members.filter(\.matches)
        var text = ""
        for (index, member) in shown.enumerated() {
            let entry =
                (text.isEmpty ? "" : "; ")
                + "\(InertText.line(member.name)) (\(InertText.line(member.id))) \(InertText.line(member.status))"
            let rest = shown.count - index - 1
            let tail = rest > 0 ? "; and \(rest) more" : ""
            if (text + entry + tail).fits(limit) {
                text += entry
            } else {
                return text + (text.isEmpty ? "" : "; ") + "and \(shown.count - index) more"
            }
        }
        return text
    }
}
