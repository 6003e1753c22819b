import Foundation

/// Reads a Devices API body by scanning its bytes once, straight into ``Device`` values, with
/// the tolerant semantics of the `Codable` path (``Device/decodeTolerantly(from:index:warnings:)``):
/// the same devices, the same warnings in the same order, the same skipped entries.
///
/// Hand-written because Foundation's `JSONDecoder` reads about 30 MB/s here, most of a
/// 100,000-device poll's CPU, and no JSON library within reach decodes faster for this shape.
/// It reads strict JSON (RFC 8259) only: anything else it does not judge (malformed or
/// truncated JSON, invalid UTF-8, a lone surrogate, a number no `Double` holds, a key given
/// twice, nesting deeper than 512) makes it return nil, and the caller decodes the body the
/// `Codable` way, which reports precisely what is wrong.
struct DeviceScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var at = 0
    var depth = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes.assumingMemoryBound(to: UInt8.self) }

    /// A list response (`{"data": [...]}` or a bare array); nil: decode it the `Codable` way.
    static func list(_ bytes: UnsafeRawBufferPointer) -> DecodedDevices? {
        var scanner = DeviceScanner(bytes)
        return try? scanner.readList()
    }

    /// A get response (one device object); nil: decode it the `Codable` way.
    static func device(_ bytes: UnsafeRawBufferPointer) -> Entry? {
        var scanner = DeviceScanner(bytes)
        guard let entry = try? scanner.readEntry(), (try? scanner.finish()) != nil else { return nil }
        return entry
    }

    /// One list entry: a device and its warnings, or why it was skipped.
    enum Entry {
        case device(Device, [DeviceDecodeWarning])
        case skipped(String)
    }

    /// Not read here: the `Codable` path takes the body.
    struct Unsupported: Error {}

    // MARK: The body

    mutating func readList() throws(Unsupported) -> DecodedDevices {
        var result = DecodedDevices(devices: [], warnings: [], skipped: [])
        skipSpace()
        switch peek() {
        case UInt8(ascii: "["):
            try readEntries(into: &result)
        case UInt8(ascii: "{"):
            at += 1
            var found = false
            try readMembers { scanner, key throws(Unsupported) in
                if scanner.place(of: key, in: Self.dataName) == 0 {
                    // A second "data", or one that is not an array: the Codable path says what it makes of it.
                    guard !found, scanner.peek() == UInt8(ascii: "[") else { throw Unsupported() }
                    found = true
                    try scanner.readEntries(into: &result)
                } else {
                    try scanner.skipValue()
                }
            }
            guard found else { throw Unsupported() }
        default:
            throw Unsupported()
        }
        try finish()
        return result
    }

    mutating func finish() throws(Unsupported) {
        skipSpace()
        guard at == bytes.count else { throw Unsupported() }
    }

    mutating func readEntries(into result: inout DecodedDevices) throws(Unsupported) {
        at += 1  // [
        skipSpace()
        if peek() == UInt8(ascii: "]") {
            at += 1
            return
        }
        var index = 0
        while true {
            switch try readEntry() {
            case .device(let device, let warnings):
                result.devices.append(device)
                for var warning in warnings {
                    warning.index = index
                    result.warnings.append(warning)
                }
            case .skipped(let reason):
                result.skipped.append(SkippedDevice(index: index, reason: reason))
            }
            index += 1
            skipSpace()
            switch next() {
            case UInt8(ascii: ","): skipSpace()
            case UInt8(ascii: "]"): return
            default: throw Unsupported()
            }
        }
    }

    // MARK: One device

    /// A value as a device field sees it.
    enum Value {
        case null
        case string(String)
        case number(Double)
        /// An array of strings only; nil for any other array.
        case strings([String]?)
        /// `hardware`'s fields, by their place in ``hardwareNames`` (an object elsewhere is only ``other``).
        case object([Value?])
        /// true, false, or an object where none is read.
        case other
    }

    mutating func readEntry() throws(Unsupported) -> Entry {
        skipSpace()
        guard peek() == UInt8(ascii: "{") else {
            try skipValue()
            return .skipped("not a device object")
        }
        at += 1
        var fields = [Value?](repeating: nil, count: Self.deviceNames.count)
        try readMembers { scanner, key throws(Unsupported) in
            guard let field = scanner.place(of: key, in: Self.deviceNames) else { return try scanner.skipValue() }
            guard fields[field] == nil else { throw Unsupported() }
            if field == Field.hardware.rawValue, scanner.peek() == UInt8(ascii: "{") {
                scanner.at += 1
                var hardware = [Value?](repeating: nil, count: Self.hardwareNames.count)
                try scanner.readMembers { scanner, key throws(Unsupported) in
                    guard let part = scanner.place(of: key, in: Self.hardwareNames) else {
                        return try scanner.skipValue()
                    }
                    guard hardware[part] == nil else { throw Unsupported() }
                    hardware[part] = try scanner.readValue()
                }
                fields[field] = .object(hardware)
            } else {
                fields[field] = try scanner.readValue()
            }
        }
        func value(_ field: Field) -> Value? { fields[field.rawValue] }
        let id: String
        switch value(.id) {
        case nil: return .skipped("no \"id\"")
        case .null?: return .skipped("\"id\" is null")
        case .string(let text)?: id = text
        default: return .skipped("\"id\" is not a string")
        }
        // In the order the Codable path reads them, so the warnings come in the same order.
        var fieldReader = Fields(deviceID: id)
        var hardware: Hardware?
        switch value(.hardware) {
        case nil, .null?: hardware = nil
        case .object(let parts)?:
            hardware = Hardware(
                processor: fieldReader.string(parts[0], "hardware.processor"),
                gpu: fieldReader.string(parts[1], "hardware.gpu"),
                totalMemoryMB: fieldReader.number(parts[2], "hardware.total_memory_mb"),
                totalDiskSpaceMB: fieldReader.number(parts[3], "hardware.total_disk_space_mb"))
        default:
            fieldReader.warn("hardware", "expected an object")
        }
        let device = Device(
            id: id,
            name: fieldReader.string(value(.name), "name"),
            status: fieldReader.string(value(.status), "status").map(DeviceStatus.init(rawValue:)),
            lastHeartbeat: fieldReader.timestamp(value(.lastHeartbeat), "last_heartbeat"),
            platform: fieldReader.string(value(.platform), "platform"),
            platformRelease: fieldReader.string(value(.platformRelease), "platform_release"),
            platformVersion: fieldReader.string(value(.platformVersion), "platform_version"),
            architecture: fieldReader.string(value(.architecture), "architecture"),
            hostname: fieldReader.string(value(.hostname), "hostname"),
            rfdmVersion: fieldReader.string(value(.rfdmVersion), "rfdm_version"),
            type: fieldReader.string(value(.type), "type"),
            hardware: hardware,
            tags: fieldReader.strings(value(.tags), "tags") ?? [],
            createdAt: fieldReader.timestamp(value(.createdAt), "created_at"))
        return .device(device, fieldReader.warnings)
    }

    /// Optional fields: a wrong type is nil and a warning, as in the Codable path's reader.
    private struct Fields {
        let deviceID: String
        var warnings: [DeviceDecodeWarning] = []

        mutating func warn(_ field: String, _ problem: String) {
            warnings.append(DeviceDecodeWarning(index: 0, deviceID: deviceID, field: field, problem: problem))
        }

        mutating func string(_ value: Value?, _ field: String) -> String? {
            switch value {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default:
                warn(field, "expected a string")
                return nil
            }
        }

        mutating func number(_ value: Value?, _ field: String) -> Double? {
            switch value {
            case nil, .null?: return nil
            case .number(let number)?: return number
            default:
                warn(field, "expected a number")
                return nil
            }
        }

        mutating func strings(_ value: Value?, _ field: String) -> [String]? {
            switch value {
            case nil, .null?: return nil
            case .strings(let list?)?: return list
            default:
                warn(field, "expected an array of strings")
                return nil
            }
        }

        mutating func timestamp(_ value: Value?, _ field: String) -> Date? {
            guard let text = string(value, field) else { return nil }
            guard let date = Timestamp.parse(text) else {
                warn(field, "not an ISO-8601 date-time")
                return nil
            }
            return date
        }
    }
}
