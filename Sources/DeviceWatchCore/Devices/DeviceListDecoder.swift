import Foundation

/// The devices of one list or get response, and what could not be read in it.
public struct DecodedDevices: Sendable {
    public var devices: [Device]
    /// Fields that were ignored (wrong type, unparseable date); their devices were kept.
    public var warnings: [DeviceDecodeWarning]
    /// Entries that were dropped because they have no string `id`, with their positions.
    public var skipped: [SkippedDevice]
}

/// A list entry that could not become a device.
public struct SkippedDevice: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var reason: String

    public init(index: Int, reason: String) {
        self.index = index
        self.reason = reason
    }

    public var description: String { "list entry #\(index) skipped: \(reason)" }
}

/// The body as a whole could not be read: not JSON, truncated, or not shaped like the API's answer.
public struct DeviceBodyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public var description: String { reason }
}

/// Decodes Devices API bodies without letting one bad device spoil the rest.
public enum DeviceListDecoder {
    /// Decodes a list response: `{"data": [Device, ...]}` (a bare array is accepted too).
    ///
    /// Large lists are decoded a slice of ``sliceSize`` devices at a time, which keeps peak memory
    /// near the body plus the devices; a body the slicer cannot follow is decoded whole.
    public static func decodeList(_ body: Data) throws(DeviceBodyError) -> DecodedDevices {
        try decodeList(body, slicingAbove: 1 << 20)
    }

    /// ``decodeList(_:)`` with the body size above which slicing is tried, and whether the byte
    /// scanner reads it first (tests vary both).
    static func decodeList(_ body: Data, slicingAbove threshold: Int, scanning: Bool = true)
        throws(DeviceBodyError) -> DecodedDevices
    {
        if scanning, let result = body.withUnsafeBytes({ DeviceScanner.list($0) }) { return result }
        if body.count > threshold, let result = decodeInSlices(body) { return result }
        do {
            return try JSONDecoder().decode(ListBody.self, from: body).result
        } catch let error as DeviceBodyError {
            throw error
        } catch {
            throw DeviceBodyError(reason: describe(error, bytes: body.count))
        }
    }

    /// Devices per slice when a list is decoded in slices.
    static let sliceSize = 2000

    /// Splits the device array into slices and decodes each as its own small array; nil when the
    /// body's structure cannot be followed (the whole-body decode then reports the error).
    private static func decodeInSlices(_ body: Data) -> DecodedDevices? {
        body.withUnsafeBytes { bytes -> DecodedDevices? in
            guard let ranges = JSONArraySplitter.elementRanges(in: bytes) else { return nil }
            var result = DecodedDevices(devices: [], warnings: [], skipped: [])
            result.devices.reserveCapacity(ranges.count)
            let decoder = JSONDecoder()
            var first = 0
            while first < ranges.count {
                let last = min(first + sliceSize, ranges.count) - 1
                var slice = Data(capacity: ranges[last].upperBound - ranges[first].lowerBound + 2)
                slice.append(UInt8(ascii: "["))
                slice.append(
                    contentsOf: UnsafeRawBufferPointer(
                        rebasing: bytes[ranges[first].lowerBound..<ranges[last].upperBound]))
                slice.append(UInt8(ascii: "]"))
                guard let slots = try? decoder.decode([DeviceSlot].self, from: slice) else { return nil }
                for (offset, slot) in slots.enumerated() {
                    result.add(slot, index: first + offset)
                }
                first = last + 1
            }
            return result
        }
    }

    /// Decodes a get response: one device object, not wrapped.
    public static func decodeDevice(_ body: Data) throws(DeviceBodyError) -> (
        device: Device, warnings: [DeviceDecodeWarning]
    ) {
        try decodeDevice(body, scanning: true)
    }

    /// ``decodeDevice(_:)``, with or without the byte scanner first (tests compare both).
    static func decodeDevice(_ body: Data, scanning: Bool) throws(DeviceBodyError) -> (
        device: Device, warnings: [DeviceDecodeWarning]
    ) {
        if scanning, let entry = body.withUnsafeBytes({ DeviceScanner.device($0) }) {
            switch entry {
            case .device(let device, let warnings): return (device, warnings)
            case .skipped(let reason): throw DeviceBodyError(reason: "the device object is unusable: \(reason)")
            }
        }
        let slot: DeviceSlot
        do {
            slot = try JSONDecoder().decode(DeviceSlot.self, from: body)
        } catch {
            throw DeviceBodyError(reason: describe(error, bytes: body.count))
        }
        switch slot.outcome {
        case .device(let device, let warnings): return (device, warnings)
        case .skipped(let reason): throw DeviceBodyError(reason: "the device object is unusable: \(reason)")
        }
    }

    private static func describe(_ error: any Error, bytes: Int) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context):
            let underlying = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return
                "the body (\(bytes) bytes) is not valid JSON, perhaps truncated: \(underlying ?? context.debugDescription)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "unexpected JSON shape at \(path(context.codingPath)): \(context.debugDescription)"
        case DecodingError.keyNotFound(let key, let context):
            return "missing \(path(context.codingPath + [key]))"
        default:
            return "the body could not be decoded: \(error)"
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.isEmpty
            ? "the top level"
            : codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// `{"data": [...]}` or a bare array, decoded straight into the result: no intermediate array
/// of entries, so peak memory stays near the body plus the devices.
private struct ListBody: Decodable {
    var result = DecodedDevices(devices: [], warnings: [], skipped: [])

    enum Key: String, CodingKey { case data }

    init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            try read(&array)
            return
        }
        let container = try decoder.container(keyedBy: Key.self)
        guard container.contains(.data) else {
            throw DeviceBodyError(reason: "the list response has no \"data\" array; is the base URL the Devices API?")
        }
        var array = try container.nestedUnkeyedContainer(forKey: .data)
        try read(&array)
    }

    private mutating func read(_ array: inout any UnkeyedDecodingContainer) throws {
        if let count = array.count { result.devices.reserveCapacity(count) }
        while !array.isAtEnd {
            let index = array.currentIndex
            result.add(try array.decode(DeviceSlot.self), index: index)
        }
    }
}

extension DecodedDevices {
    fileprivate mutating func add(_ slot: DeviceSlot, index: Int) {
        switch slot.outcome {
        case .device(let device, let warnings):
            devices.append(device)
            for var warning in warnings {
                warning.index = index
                self.warnings.append(warning)
            }
        case .skipped(let reason):
            skipped.append(SkippedDevice(index: index, reason: reason))
        }
    }
}

/// One list entry: a device, or why it was skipped. Decoding a slot never throws for a bad device.
private struct DeviceSlot: Decodable {
    enum Outcome {
        case device(Device, [DeviceDecodeWarning])
        case skipped(String)
    }

    var outcome: Outcome

    init(from decoder: any Decoder) throws {
        var warnings: [DeviceDecodeWarning] = []
        do {
            let device = try Device.decodeTolerantly(from: decoder, index: 0, warnings: &warnings)
            outcome = .device(device, warnings)
        } catch DecodingError.keyNotFound(let key, _) where key.stringValue == "id" {
            outcome = .skipped("no \"id\"")
        } catch DecodingError.valueNotFound(_, let context) where context.codingPath.last?.stringValue == "id" {
            outcome = .skipped("\"id\" is null")
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.last?.stringValue == "id" {
            outcome = .skipped("\"id\" is not a string")
        } catch {
            // The JSON itself was already parsed whole; what is left is an entry that is not an object.
            outcome = .skipped("not a device object")
        }
    }
}
