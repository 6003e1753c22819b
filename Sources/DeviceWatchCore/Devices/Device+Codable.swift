import Foundation

/// The JSON keys of a device object, as the Devices API spells them.
enum DeviceKey: String, CodingKey {
    case id, name, status, tags, platform, architecture, hostname, type, hardware
    case lastHeartbeat = "last_heartbeat"
    case platformRelease = "platform_release"
    case platformVersion = "platform_version"
    case rfdmVersion = "rfdm_version"
    case createdAt = "created_at"
}

enum HardwareKey: String, CodingKey {
    case processor, gpu
    case totalMemoryMB = "total_memory_mb"
    case totalDiskSpaceMB = "total_disk_space_mb"
}

/// A field of one device that could not be read; the device was kept with that field empty.
public struct DeviceDecodeWarning: Sendable, Equatable, CustomStringConvertible {
    /// Position of the device in the list (0 for a single device).
    public var index: Int
    public var deviceID: String?
    /// The JSON field, e.g. `last_heartbeat` or `hardware.total_memory_mb`.
    public var field: String
    public var problem: String

    public var description: String {
        "device \(deviceID.map { "\"\($0)\"" } ?? "#\(index)"): field \(field) ignored: \(problem)"
    }
}

extension Device: Decodable {
    /// Decodes strictly enough to require an `id`; any other field that is missing, null or of the
    /// wrong type becomes nil. Use ``DeviceListDecoder`` to also learn which fields were ignored.
    public init(from decoder: any Decoder) throws {
        var warnings: [DeviceDecodeWarning] = []
        self = try Device.decodeTolerantly(from: decoder, index: 0, warnings: &warnings)
    }

    /// The tolerant decoding shared by ``init(from:)`` and ``DeviceListDecoder``.
    static func decodeTolerantly(
        from decoder: any Decoder, index: Int, warnings: inout [DeviceDecodeWarning]
    ) throws -> Device {
        let container = try decoder.container(keyedBy: DeviceKey.self)
        let id = try container.decode(String.self, forKey: .id)
        var reader = FieldReader(index: index, deviceID: id, warnings: warnings)
        defer { warnings = reader.warnings }
        let hardware: Hardware? =
            if container.contains(.hardware), (try? container.decodeNil(forKey: .hardware)) == false,
                let nested = reader.nested(container, .hardware)
            {
                Hardware(
                    processor: reader.read(nested, .processor, prefix: "hardware."),
                    gpu: reader.read(nested, .gpu, prefix: "hardware."),
                    totalMemoryMB: reader.read(nested, .totalMemoryMB, prefix: "hardware."),
                    totalDiskSpaceMB: reader.read(nested, .totalDiskSpaceMB, prefix: "hardware."))
            } else { nil }
        return Device(
            id: id,
            name: reader.read(container, .name),
            status: (reader.read(container, .status) as String?).map(DeviceStatus.init(rawValue:)),
            lastHeartbeat: reader.timestamp(container, .lastHeartbeat),
            platform: reader.read(container, .platform),
            platformRelease: reader.read(container, .platformRelease),
            platformVersion: reader.read(container, .platformVersion),
            architecture: reader.read(container, .architecture),
            hostname: reader.read(container, .hostname),
            rfdmVersion: reader.read(container, .rfdmVersion),
            type: reader.read(container, .type),
            hardware: hardware,
            tags: reader.read(container, .tags) ?? [],
            createdAt: reader.timestamp(container, .createdAt))
    }
}

/// Reads optional fields, turning a wrong type into nil plus a warning.
private struct FieldReader {
    let index: Int
    let deviceID: String
    var warnings: [DeviceDecodeWarning]

    // One overload per field type, not one generic function: the decoder's concrete
    // `decodeIfPresent(String.self, ...)` reads the value in place, while the generic one builds
    // a nested decoder per field (one allocation each, about 15% of the list's decode time).
    mutating func read<K: CodingKey>(_ container: KeyedDecodingContainer<K>, _ key: K, prefix: String = "") -> String? {
        do {
            return try container.decodeIfPresent(String.self, forKey: key)
        } catch {
            warn(prefix + key.stringValue, "expected a string")
            return nil
        }
    }

    mutating func read<K: CodingKey>(_ container: KeyedDecodingContainer<K>, _ key: K, prefix: String = "") -> Double? {
        do {
            return try container.decodeIfPresent(Double.self, forKey: key)
        } catch {
            warn(prefix + key.stringValue, "expected a number")
            return nil
        }
    }

    mutating func read<K: CodingKey>(_ container: KeyedDecodingContainer<K>, _ key: K, prefix: String = "") -> [String]?
    {
        do {
            return try container.decodeIfPresent([String].self, forKey: key)
        } catch {
            warn(prefix + key.stringValue, "expected an array of strings")
            return nil
        }
    }

    private mutating func warn(_ field: String, _ problem: String) {
        warnings.append(DeviceDecodeWarning(index: index, deviceID: deviceID, field: field, problem: problem))
    }

    mutating func timestamp(_ container: KeyedDecodingContainer<DeviceKey>, _ key: DeviceKey) -> Date? {
        guard let text: String = read(container, key) else { return nil }
        guard let date = Timestamp.parse(text) else {
            warn(key.stringValue, "not an ISO-8601 date-time")
            return nil
        }
        return date
    }

    mutating func nested(
        _ container: KeyedDecodingContainer<DeviceKey>, _ key: DeviceKey
    ) -> KeyedDecodingContainer<HardwareKey>? {
        do {
            return try container.nestedContainer(keyedBy: HardwareKey.self, forKey: key)
        } catch {
            warn(key.stringValue, "expected an object")
            return nil
        }
    }
}

extension Device: Encodable {
    /// Encodes as the Devices API does: every field present, absent values as null,
    /// dates as `2026-04-28T12:00:00.000Z`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: DeviceKey.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(status?.rawValue, forKey: .status)
        try container.encode(lastHeartbeat.map(Timestamp.format), forKey: .lastHeartbeat)
        try container.encode(platform, forKey: .platform)
        try container.encode(platformRelease, forKey: .platformRelease)
        try container.encode(platformVersion, forKey: .platformVersion)
        try container.encode(architecture, forKey: .architecture)
        try container.encode(hostname, forKey: .hostname)
        try container.encode(rfdmVersion, forKey: .rfdmVersion)
        try container.encode(type, forKey: .type)
        if let hardware {
            var nested = container.nestedContainer(keyedBy: HardwareKey.self, forKey: .hardware)
            try nested.encode(hardware.processor, forKey: .processor)
            try nested.encode(hardware.gpu, forKey: .gpu)
            try nested.encode(hardware.totalMemoryMB, forKey: .totalMemoryMB)
            try nested.encode(hardware.totalDiskSpaceMB, forKey: .totalDiskSpaceMB)
        } else {
            try container.encodeNil(forKey: .hardware)
        }
        try container.encode(tags, forKey: .tags)
        try container.encode(createdAt.map(Timestamp.format), forKey: .createdAt)
    }
}
