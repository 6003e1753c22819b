import Foundation

// The outbox's rows read back by the pull reader: what JSONWriter wrote, without JSONDecoder.

extension NotificationIntent {
    /// Reads what ``jsonData`` wrote (or any JSON `JSONDecoder` would read into an intent, in the
    /// forms `JSONWriter` uses: dates as seconds since 2001). Throws on anything else.
    public init(outboxJSON data: Data) throws {
        try self.init(outboxJSON: [UInt8](data))
    }

    public init(outboxJSON bytes: [UInt8]) throws {
        var reader = JSONReader(bytes)
        var id: String?, receiver: String?, groupKey: String?, reason: Reason?, createdAt: Date?
        var groupLabels: [String: String] = [:]
        var firing: [AlertSnapshot] = [], resolved: [AlertSnapshot] = []
        try reader.object { reader, key in
            switch key {
            case "id": id = try reader.string()
            case "receiver": receiver = try reader.string()
            case "groupKey": groupKey = try reader.string()
            case "groupLabels": groupLabels = try reader.stringMap()
            case "firing": try reader.array { reader in firing.append(try AlertSnapshot(reading: &reader)) }
            case "resolved": try reader.array { reader in resolved.append(try AlertSnapshot(reading: &reader)) }
            case "reason": reason = Reason(rawValue: try reader.string())
            case "createdAt": createdAt = Date(timeIntervalSinceReferenceDate: try reader.number())
            default: try reader.skip()
            }
        }
        try reader.end()
        guard let id, let receiver, let groupKey, let reason, let createdAt else {
            throw JSONReader.Malformed(
                offset: 0, expected: "a notification with id, receiver, groupKey, reason and createdAt")
        }
        self.init(
            id: id, receiver: receiver, groupKey: groupKey, groupLabels: GroupLabels(groupLabels), firing: firing,
            resolved: resolved, reason: reason,
            createdAt: createdAt)
    }
}

extension AlertSnapshot {
    init(reading reader: inout JSONReader) throws {
        var key: AlertKey?, status: AlertInstance.State?, severity: Severity?
        var labels: [String: String] = [:]
        var startsAt: Date?, endsAt: Date?, resolveReason: String?, device: Device?, evaluatedAt: Date?,
            firstSeen: Date?, message: String?, text: AlertText?, fleet: FleetFacts?, flapping: FlappingState?
        try reader.object { reader, name in
            switch name {
            case "key":
                var workspace = "", ruleID = "", deviceID = ""
                try reader.object { reader, part in
                    switch part {
                    case "workspace": workspace = try reader.string()
                    case "ruleID": ruleID = try reader.string()
                    case "deviceID": deviceID = try reader.string()
                    default: try reader.skip()
                    }
                }
                key = AlertKey(workspace: workspace, ruleID: ruleID, deviceID: deviceID)
            case "status": status = AlertInstance.State(rawValue: try reader.string())
            case "severity": severity = Severity(rawValue: try reader.string())
            case "labels": labels = try reader.stringMap()
            case "startsAt": startsAt = Date(timeIntervalSinceReferenceDate: try reader.number())
            case "endsAt": endsAt = try reader.optionalNumber().map(Date.init(timeIntervalSinceReferenceDate:))
            case "resolveReason": resolveReason = try reader.optionalString()
            case "device": device = try Device(reading: &reader)
            case "evaluatedAt": evaluatedAt = Date(timeIntervalSinceReferenceDate: try reader.number())
            case "firstSeen": firstSeen = try reader.optionalNumber().map(Date.init(timeIntervalSinceReferenceDate:))
            case "message": message = try reader.optionalString()
            case "text":
                var summary = "", description: String?, reasons: [String] = []
                try reader.object { reader, part in
                    switch part {
                    case "summary": summary = try reader.string()
                    case "description": description = try reader.optionalString()
                    case "reasons": reasons = try reader.strings()
                    default: try reader.skip()
                    }
                }
                text = AlertText(summary: summary, description: description, reasons: reasons)
            case "fleet": fleet = try FleetFacts(reading: &reader)
            case "flapping":
                var since = 0.0, changes = 0.0
                try reader.object { reader, part in
                    switch part {
                    case "since": since = try reader.number()
                    case "changes": changes = try reader.number()
                    default: try reader.skip()
                    }
                }
                flapping = FlappingState(since: Date(timeIntervalSinceReferenceDate: since), changes: Int(changes))
            default: try reader.skip()
            }
        }
        guard let key, let status, let severity, let startsAt, let device, let evaluatedAt else {
            throw JSONReader.Malformed(
                offset: 0,
                expected: "an alert with key, status, severity, startsAt, device and evaluatedAt")
        }
        self.init(
            key: key, status: status, severity: severity, labels: labels, startsAt: startsAt,
            endsAt: endsAt,
            resolveReason: resolveReason, device: device, evaluatedAt: evaluatedAt, firstSeen: firstSeen,
            message: message, text: text, fleet: fleet, flapping: flapping)
    }
}

extension Device {
    /// The API's form, as ``write(to:)`` writes it; timestamps must parse.
    init(reading reader: inout JSONReader) throws {
        var device = Device(id: "")
        var sawID = false
        func timestamp(_ text: String?) throws -> Date? {
            guard let text else { return nil }
            guard let date = Timestamp.parse(text) else {
                throw JSONReader.Malformed(offset: 0, expected: "an ISO-8601 time")
            }
            return date
        }
        try reader.object { reader, key in
            switch key {
            case "id":
                device.id = try reader.string()
                sawID = true
            case "name": device.name = try reader.optionalString()
            case "status": device.status = try reader.optionalString().map(DeviceStatus.init(rawValue:))
            case "last_heartbeat": device.lastHeartbeat = try timestamp(reader.optionalString())
            case "platform": device.platform = try reader.optionalString()
            case "platform_release": device.platformRelease = try reader.optionalString()
            case "platform_version": device.platformVersion = try reader.optionalString()
            case "architecture": device.architecture = try reader.optionalString()
            case "hostname": device.hostname = try reader.optionalString()
            case "rfdm_version": device.rfdmVersion = try reader.optionalString()
            case "type": device.type = try reader.optionalString()
            case "tags": device.tags = reader.null() ? [] : try reader.strings()
            case "created_at": device.createdAt = try timestamp(reader.optionalString())
            case "hardware":
                guard !reader.null() else { return }
                var hardware = Hardware()
                try reader.object { reader, part in
                    switch part {
                    case "processor": hardware.processor = try reader.optionalString()
                    case "gpu": hardware.gpu = try reader.optionalString()
                    case "total_memory_mb": hardware.totalMemoryMB = try reader.optionalNumber()
                    case "total_disk_space_mb": hardware.totalDiskSpaceMB = try reader.optionalNumber()
                    default: try reader.skip()
                    }
                }
                device.hardware = hardware
            default: try reader.skip()
            }
        }
        guard sawID else { throw JSONReader.Malformed(offset: 0, expected: "a device with an id") }
        self = device
    }
}
