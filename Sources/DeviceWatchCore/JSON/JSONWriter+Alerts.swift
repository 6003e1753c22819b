import Foundation

extension Device {
    /// The device in the API's format, keys in sorted order. Absent fields are left out (the
    /// decoder reads them as null), or with `nulls` written as `null`, as the API does: the form
    /// webhook receivers get.
    public func write(to writer: inout JSONWriter, nulls: Bool = false) {
        func absent(_ name: String) {
            guard nulls else { return }
            writer.key(name)
            writer.null()
        }
        func field(_ name: String, _ value: String?) {
            if let value { writer.member(name, value) } else { absent(name) }
        }
        func number(_ name: String, _ value: Double?) {
            if let value { writer.member(name, value) } else { absent(name) }
        }
        writer.beginObject()
        field("architecture", architecture)
        field("created_at", createdAt.map(Timestamp.format))
        if let hardware {
            writer.key("hardware")
            writer.beginObject()
            field("gpu", hardware.gpu)
            field("processor", hardware.processor)
            number("total_disk_space_mb", hardware.totalDiskSpaceMB)
            number("total_memory_mb", hardware.totalMemoryMB)
            writer.endObject()
        } else if nulls {
            writer.key("hardware")
            writer.null()
        }
        field("hostname", hostname)
        field("id", id)
        field("last_heartbeat", lastHeartbeat.map(Timestamp.format))
        field("name", name)
        field("platform", platform)
        field("platform_release", platformRelease)
        field("platform_version", platformVersion)
        field("rfdm_version", rfdmVersion)
        field("status", status?.rawValue)
        writer.key("tags")
        writer.beginArray()
        for tag in tags { writer.string(tag) }
        writer.endArray()
        field("type", type)
        writer.endObject()
    }
}

extension JSONWriter {
    /// The members alerts and their snapshots share at their end, and the closing brace.
    /// Opens an alert's object with what every alert form starts with.
    fileprivate mutating func alertHead(
        _ alertKey: AlertKey, _ fingerprint: String, state: (name: String, value: String), _ severity: Severity,
        _ labels: [String: String]
    ) {
        beginObject()
        key("key")
        alertKey.write(to: &self)
        member("fingerprint", fingerprint)
        member(state.name, state.value)
        member("severity", severity.rawValue)
        member("labels", labels)
    }

    fileprivate mutating func alertFacts(
        device: Device, evaluatedAt: Date, firstSeen: Date?, message: String?, fleet: FleetFacts?,
        flips: [Date]? = nil, flappingSince: Date? = nil, flapping: FlappingState? = nil
    ) {
        if let flips {
            key("flips")
            beginArray()
            for flip in flips { number(flip.timeIntervalSinceReferenceDate) }
            endArray()
        }
        member("flappingSince", flappingSince)
        if let flapping {
            key("flapping")
            beginObject()
            member("since", flapping.since)
            member("changes", Double(flapping.changes))
            endObject()
        }
        key("device")
        device.write(to: &self)
        member("evaluatedAt", evaluatedAt)
        member("firstSeen", firstSeen)
        member("message", message)
        if let fleet {
            key("fleet")
            fleet.write(to: &self)
        }
        endObject()
    }
}

extension FleetMember {
    /// `{"id", "name", "status", "matches"}`, as `JSONDecoder` reads it back.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("id", id)
        writer.member("name", name)
        writer.member("status", status)
        writer.key("matches")
        writer.bool(matches)
        writer.endObject()
    }
}

extension FleetFacts {
    /// As `JSONDecoder` reads it back.
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("group", group)
        writer.member("total", Double(total))
        writer.member("matching", Double(matching))
        writer.key("members")
        writer.beginArray()
        for member in members { member.write(to: &writer) }
        writer.endArray()
        writer.endObject()
    }

    init(reading reader: inout JSONReader) throws {
        var group = "", total = 0.0, matching = 0.0, members: [FleetMember] = []
        try reader.object { reader, name in
            switch name {
            case "group": group = try reader.string()
            case "total": total = try reader.number()
            case "matching": matching = try reader.number()
            case "members":
                try reader.array { reader in
                    var member = FleetMember(id: "", name: "", status: "", matches: false)
                    try reader.object { reader, part in
                        switch part {
                        case "id": member.id = try reader.string()
                        case "name": member.name = try reader.string()
                        case "status": member.status = try reader.string()
                        case "matches": member.matches = try reader.bool()
                        default: try reader.skip()
                        }
                    }
                    members.append(member)
                }
            default: try reader.skip()
            }
        }
        self.init(group: group, total: Int(total), matching: Int(matching), members: members)
    }
}

extension AlertKey {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("workspace", workspace)
        writer.member("ruleID", ruleID)
        writer.member("deviceID", deviceID)
        writer.endObject()
    }
}

extension AlertSnapshot {
    public func write(to writer: inout JSONWriter) {
        writer.alertHead(key, fingerprint, state: ("status", status.rawValue), severity, labels)
        writer.member("startsAt", startsAt)
        writer.member("endsAt", endsAt)
        writer.member("resolveReason", resolveReason)
        if let text {
            writer.key("text")
            writer.beginObject()
            writer.member("summary", text.summary)
            writer.member("description", text.description)
            writer.key("reasons")
            writer.beginArray()
            for reason in text.reasons { writer.string(reason) }
            writer.endArray()
            writer.endObject()
        }
        writer.alertFacts(
            device: device, evaluatedAt: evaluatedAt, firstSeen: firstSeen, message: message, fleet: fleet,
            flapping: flapping)
    }
}

extension NotificationIntent {
    /// The intent as JSON that `JSONDecoder` reads back into an equal intent.
    public var jsonData: Data {
        var writer = JSONWriter(capacity: 512 + 600 * (firing.count + resolved.count))
        writer.beginObject()
        writer.member("id", id)
        writer.member("receiver", receiver)
        writer.member("groupKey", groupKey)
        writer.member("groupLabels", groupLabels)
        for (name, alerts) in [("firing", firing), ("resolved", resolved)] {
            writer.key(name)
            writer.beginArray()
            for alert in alerts { alert.write(to: &writer) }
            writer.endArray()
        }
        writer.member("reason", reason.rawValue)
        writer.member("createdAt", createdAt)
        writer.endObject()
        return writer.data
    }
}

extension AlertInstance {
    /// The alert as JSON that `JSONDecoder` reads back into an equal instance.
    public var jsonData: Data {
        var writer = JSONWriter(capacity: 768)
        writer.alertHead(key, fingerprint, state: ("state", state.rawValue), severity, labels)
        writer.member("activeSince", activeSince)
        writer.member("firingSince", firingSince)
        writer.member("lastTrue", lastTrue)
        writer.member("resolvedAt", resolvedAt)
        writer.member("resolveReason", resolveReason?.rawValue)
        writer.alertFacts(
            device: device, evaluatedAt: evaluatedAt, firstSeen: firstSeen, message: message, fleet: fleet,
            flips: flips, flappingSince: flappingSince)
        return writer.data
    }
}
