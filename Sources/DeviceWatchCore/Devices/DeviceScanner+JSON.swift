import Foundation

/// The scanner's JSON: keys compared byte for byte, and strict RFC 8259 values.
extension DeviceScanner {
    // MARK: Keys

    /// A device's fields, by their place in ``deviceNames``.
    enum Field: Int {
        case id, name, status, lastHeartbeat, platform, platformRelease, platformVersion, architecture, hostname
        case rfdmVersion, type, hardware, tags, createdAt
    }

    static let deviceNames: [[UInt8]] = [
        DeviceKey.id, .name, .status, .lastHeartbeat, .platform, .platformRelease, .platformVersion, .architecture,
        .hostname, .rfdmVersion, .type, .hardware, .tags, .createdAt,
    ].map { Array($0.rawValue.utf8) }
    /// processor, gpu, total_memory_mb, total_disk_space_mb
    static let hardwareNames: [[UInt8]] = [HardwareKey.processor, .gpu, .totalMemoryMB, .totalDiskSpaceMB].map {
        Array($0.rawValue.utf8)
    }
    static let dataName: [[UInt8]] = [Array("data".utf8)]

    /// A member's key: where its bytes are when it has no escape, else its text.
    enum Key {
        case bytes(Range<Int>)
        case text(String)
    }

    /// Which of `names` the key is, compared byte for byte (no string is made of a plain key).
    func place(of key: Key, in names: [[UInt8]]) -> Int? {
        switch key {
        case .bytes(let range):
            for (index, name) in names.enumerated() where name.count == range.count {
                if name.withUnsafeBufferPointer({
                    memcmp($0.baseAddress!, bytes.baseAddress! + range.lowerBound, range.count)
                })
                    == 0
                {
                    return index
                }
            }
            return nil
        case .text(let text):
            return names.firstIndex { $0.elementsEqual(text.utf8) }
        }
    }

    // MARK: JSON

    func peek() -> UInt8? { at < bytes.count ? bytes[at] : nil }

    mutating func next() -> UInt8? {
        guard at < bytes.count else { return nil }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    mutating func expect(_ literal: StaticString) throws(Unsupported) {
        let count = literal.utf8CodeUnitCount
        guard at + count <= bytes.count else { throw Unsupported() }
        for offset in 0..<count where bytes[at + offset] != literal.utf8Start[offset] { throw Unsupported() }
        at += count
    }

    /// The members of an object whose `{` is read, each value left to `member` (at its first byte).
    mutating func readMembers(
        _ member: (inout DeviceScanner, Key) throws(Unsupported) -> Void
    ) throws(Unsupported) {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 512 else { throw Unsupported() }
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            at += 1
            return
        }
        while true {
            skipSpace()
            guard next() == UInt8(ascii: "\"") else { throw Unsupported() }
            let key = try readKey()
            skipSpace()
            guard next() == UInt8(ascii: ":") else { throw Unsupported() }
            skipSpace()
            try member(&self, key)
            skipSpace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return
            default: throw Unsupported()
            }
        }
    }

    /// A field's value, at its first byte.
    mutating func readValue() throws(Unsupported) -> Value {
        switch peek() ?? 0 {
        case UInt8(ascii: "\""):
            at += 1
            return .string(try readString())
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        case UInt8(ascii: "["):
            return .strings(try readStrings())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try readNumber())
        default:
            try skipValue()
            return .other
        }
    }

    /// An array, at its `[`: its strings, or nil when anything else is in it (read and checked).
    mutating func readStrings() throws(Unsupported) -> [String]? {
        at += 1
        depth += 1
        defer { depth -= 1 }
        guard depth <= 512 else { throw Unsupported() }
        var list: [String]? = []
        skipSpace()
        if peek() == UInt8(ascii: "]") {
            at += 1
            return list
        }
        while true {
            skipSpace()
            if peek() == UInt8(ascii: "\"") {
                at += 1
                let text = try readString()
                list?.append(text)
            } else {
                try skipValue()
                list = nil
            }
            skipSpace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return list
            default: throw Unsupported()
            }
        }
    }

    /// Any value, checked and passed over.
    mutating func skipValue() throws(Unsupported) {
        switch peek() ?? 0 {
        case UInt8(ascii: "\""):
            at += 1
            _ = try readString()
        case UInt8(ascii: "{"):
            at += 1
            try readMembers { scanner, _ throws(Unsupported) in try scanner.skipValue() }
        case UInt8(ascii: "["):
            _ = try readStrings()
        case UInt8(ascii: "t"): try expect("true")
        case UInt8(ascii: "f"): try expect("false")
        case UInt8(ascii: "n"): try expect("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try readNumber()
        default: throw Unsupported()
        }
    }

    /// A member's key, its opening quote read.
    mutating func readKey() throws(Unsupported) -> Key {
        let start = at
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                at += 1
                return .bytes(start..<(at - 1))
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { break }
            at += 1
        }
        at = start
        return .text(try readString())
    }

    /// A string's contents, its opening quote read: strict JSON, valid UTF-8.
    mutating func readString() throws(Unsupported) -> String {
        let start = at
        var ascii = true
        // The usual case: no escape, so the bytes are the string.
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                let text = UnsafeBufferPointer(rebasing: bytes[start..<at])
                at += 1
                if ascii { return String(decoding: text, as: UTF8.self) }
                guard let valid = String(validating: text, as: UTF8.self) else { throw Unsupported() }
                return valid
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw Unsupported() }
            if byte >= 0x80 { ascii = false }
            at += 1
        }
        var utf8 = Array(UnsafeBufferPointer(rebasing: bytes[start..<at]))
        while true {
            guard let byte = next() else { throw Unsupported() }
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: utf8, as: UTF8.self) else { throw Unsupported() }
                return text
            case UInt8(ascii: "\\"):
                guard let escaped = next() else { throw Unsupported() }
                if let simple = JSONEscape.simple(escaped) {
                    utf8.append(simple)
                    continue
                }
                guard escaped == UInt8(ascii: "u") else { throw Unsupported() }
                var scalar = try readHex()
                if JSONEscape.isHighSurrogate(scalar) {
                    // A high surrogate must be followed by its low one.
                    guard next() == UInt8(ascii: "\\"), next() == UInt8(ascii: "u") else { throw Unsupported() }
                    let low = try readHex()
                    guard JSONEscape.isLowSurrogate(low) else { throw Unsupported() }
                    scalar = JSONEscape.scalar(high: scalar, low: low)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Unsupported() }
                utf8.append(contentsOf: UTF8.encode(unicode)!)
            default:
                guard byte >= 0x20 else { throw Unsupported() }
                utf8.append(byte)
            }
        }
    }

    mutating func readHex() throws(Unsupported) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = next(), let digit = JSONEscape.hexDigit(byte) else { throw Unsupported() }
            value = value << 4 | digit
        }
        return value
    }

    /// A number, by JSON's grammar; one no finite `Double` holds is not read here.
    mutating func readNumber() throws(Unsupported) -> Double {
        let start = at
        func digits(_ scanner: inout DeviceScanner) -> Int {
            let from = scanner.at
            while let byte = scanner.peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { scanner.at += 1 }
            return scanner.at - from
        }
        if peek() == UInt8(ascii: "-") { at += 1 }
        if peek() == UInt8(ascii: "0") {
            at += 1
        } else {
            guard digits(&self) > 0 else { throw Unsupported() }
        }
        if peek() == UInt8(ascii: ".") {
            at += 1
            guard digits(&self) > 0 else { throw Unsupported() }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            at += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { at += 1 }
            guard digits(&self) > 0 else { throw Unsupported() }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw Unsupported() }
        return value
    }
}
