import Foundation

/// A pull reader over JSON bytes, for the few shapes read back in bulk (notifications from the
/// outbox): no tree, no boxing, strings copied once. The counterpart of ``JSONWriter``; decoding
/// outbox rows with `JSONDecoder` was an eighth of the dispatcher's CPU time. It reads any valid
/// JSON of those shapes, skipping members it does not know; anything else throws, and callers
/// fall back to `JSONDecoder`.
public struct JSONReader {
    public struct Malformed: Error, Sendable {
        public var offset: Int
        public var expected: String
    }

    private let bytes: [UInt8]
    private var index = 0

    public init(_ data: Data) {
        bytes = [UInt8](data)
    }

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: Values

    /// Reads an object, calling `member` with each key; `member` must read or skip the value.
    public mutating func object(_ member: (inout JSONReader, String) throws -> Void) throws {
        try items(UInt8(ascii: "{"), UInt8(ascii: "}")) { reader in
            reader.skipSpace()
            let key = try reader.string()
            reader.skipSpace()
            try reader.expect(UInt8(ascii: ":"))
            try member(&reader, key)
        }
    }

    /// Reads an array, calling `element` for each element; `element` must read or skip it.
    public mutating func array(_ element: (inout JSONReader) throws -> Void) throws {
        try items(UInt8(ascii: "["), UInt8(ascii: "]"), element)
    }

    /// `open`, then `item` after item separated by commas, then `close`.
    private mutating func items(_ open: UInt8, _ close: UInt8, _ item: (inout JSONReader) throws -> Void) throws {
        try expect(open)
        skipSpace()
        if peek == close {
            index += 1
            return
        }
        while true {
            try item(&self)
            skipSpace()
            if peek == UInt8(ascii: ",") {
                index += 1
                continue
            }
            try expect(close)
            return
        }
    }

    /// `true` (and consumed) when the next value is `null`.
    public mutating func null() -> Bool {
        skipSpace()
        guard index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
            bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    public mutating func string() throws -> String {
        skipSpace()
        try expect(UInt8(ascii: "\""))
        let start = index
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                let text = bytes.withUnsafeBufferPointer { String(decoding: $0[start..<index], as: UTF8.self) }
                index += 1
                return text
            case UInt8(ascii: "\\"):
                return try escapedString(from: start)
            default:
                index += 1
            }
        }
        throw Malformed(offset: index, expected: "the end of a string")
    }

    public mutating func optionalString() throws -> String? {
        null() ? nil : try string()
    }

    public mutating func number() throws -> Double {
        skipSpace()
        let start = index
        while index < bytes.count, Self.isNumberByte(bytes[index]) { index += 1 }
        guard index > start,
            let value = bytes.withUnsafeBufferPointer({ Double(String(decoding: $0[start..<index], as: UTF8.self)) })
        else {
            throw Malformed(offset: start, expected: "a number")
        }
        return value
    }

    public mutating func bool() throws -> Bool {
        skipSpace()
        if peek == UInt8(ascii: "t") {
            try literal("true")
            return true
        }
        try literal("false")
        return false
    }

    public mutating func optionalNumber() throws -> Double? {
        null() ? nil : try number()
    }

    /// A string-to-string object.
    public mutating func stringMap() throws -> [String: String] {
        var map: [String: String] = [:]
        try object { reader, key in map[key] = try reader.string() }
        return map
    }

    public mutating func strings() throws -> [String] {
        var list: [String] = []
        try array { reader in list.append(try reader.string()) }
        return list
    }

    /// Skips any value.
    public mutating func skip() throws {
        skipSpace()
        switch peek {
        case UInt8(ascii: "{"): try object { reader, _ in try reader.skip() }
        case UInt8(ascii: "["): try array { reader in try reader.skip() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try number()
        }
    }

    /// Only whitespace is left.
    public mutating func end() throws {
        skipSpace()
        guard index == bytes.count else { throw Malformed(offset: index, expected: "the end of the document") }
    }

    // MARK: Bytes

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while index < bytes.count,
            bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09
        { index += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws {
        skipSpace()
        guard peek == byte else { throw Malformed(offset: index, expected: "\"\(Character(Unicode.Scalar(byte)))\"") }
        index += 1
    }

    private mutating func literal(_ word: String) throws {
        for byte in word.utf8 {
            guard peek == byte else { throw Malformed(offset: index, expected: word) }
            index += 1
        }
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    }

    /// The slow path: a string with escapes, from its first byte at `start`.
    private mutating func escapedString(from start: Int) throws -> String {
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escape = peek else { break }
                index += 1
                guard escape == UInt8(ascii: "u") else {
                    out.append(JSONEscape.simple(escape) ?? escape)
                    continue
                }
                var scalar = try hex4()
                if JSONEscape.isHighSurrogate(scalar), peek == UInt8(ascii: "\\") {
                    index += 1
                    try literal("u")
                    let low = try hex4()
                    guard JSONEscape.isLowSurrogate(low) else {
                        throw Malformed(offset: index, expected: "a low surrogate")
                    }
                    scalar = JSONEscape.scalar(high: scalar, low: low)
                }
                guard let unicode = Unicode.Scalar(scalar) else {
                    throw Malformed(offset: index, expected: "a Unicode scalar")
                }
                out.append(contentsOf: UTF8.encode(unicode)!)
            default:
                out.append(byte)
            }
        }
        throw Malformed(offset: index, expected: "the end of a string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw Malformed(offset: index, expected: "4 hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            guard let digit = JSONEscape.hexDigit(byte) else {
                throw Malformed(offset: index - 1, expected: "a hex digit")
            }
            value = value * 16 + digit
        }
        return value
    }
}

// MARK: The shapes the outbox holds
