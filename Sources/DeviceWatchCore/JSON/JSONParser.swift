/// A strict RFC 8259 JSON parser that records where every value starts.
///
/// Hand-written because Foundation's parsers keep no positions, and a person fixing a rule file
/// wants "line 14, column 9", not only a path. Configuration files are small; speed is not the aim.
public enum JSONParser {
    /// Parses a whole document; duplicate keys are errors.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONNode {
        var parser = Parser(bytes: Array(text.utf8))
        parser.skipWhitespace()
        let node = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return node
    }
}

private struct Parser {
    let bytes: [UInt8]
    var index = 0
    var line = 1
    var lineStart = 0

    init(bytes: [UInt8]) {
        // A UTF-8 byte order mark is tolerated, as editors on some systems write one.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            self.bytes = Array(bytes.dropFirst(3))
        } else {
            self.bytes = bytes
        }
    }

    var column: Int {
        // Columns count characters, not bytes: skip UTF-8 continuation bytes.
        bytes[lineStart..<min(index, bytes.count)].reduce(1) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }

    func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(line: line, column: column, message: message)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A:
                index += 1
                line += 1
                lineStart = index
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONNode {
        guard depth < 200 else { throw error("nested too deeply") }
        guard index < bytes.count else { throw error("unexpected end of file: a value is missing") }
        let startLine = line, startColumn = column
        func node(_ value: JSONNode.Value) -> JSONNode { JSONNode(value: value, line: startLine, column: startColumn) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return node(try object(depth: depth))
        case UInt8(ascii: "["): return node(try array(depth: depth))
        case UInt8(ascii: "\""): return node(.string(try string()))
        case UInt8(ascii: "t"): try literal("true"); return node(.bool(true))
        case UInt8(ascii: "f"): try literal("false"); return node(.bool(false))
        case UInt8(ascii: "n"): try literal("null"); return node(.null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return node(.number(try number()))
        case UInt8(ascii: "'"): throw error("strings need double quotes, not single quotes")
        case UInt8(ascii: "}"), UInt8(ascii: "]"): throw error("a value is missing (trailing comma?)")
        default: throw error("unexpected character \(describe(bytes[index]))")
        }
    }

    mutating func literal(_ word: String) throws(JSONSyntaxError) {
        let expected = Array(word.utf8)
        guard bytes.count - index >= expected.count, Array(bytes[index..<index + expected.count]) == expected else {
            throw error("unexpected text; expected \(word)")
        }
        index += expected.count
    }

    mutating func number() throws(JSONSyntaxError) -> Double {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits() -> Int {
            let from = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                index += 1
            }
            return index - from
        }
        let integerStart = index
        let integerDigits = digits()
        guard integerDigits > 0 else { throw error("a number needs digits") }
        if integerDigits > 1, bytes[integerStart] == UInt8(ascii: "0") { throw error("numbers must not start with 0") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("a number needs digits after the decimal point") }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits() > 0 else { throw error("a number needs digits in its exponent") }
        }
        guard let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else {
            throw error("not a number")
        }
        return value
    }

    mutating func string() throws(JSONSyntaxError) -> String {
        index += 1
        var run = index
        var result = ""
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                result += String(decoding: bytes[run..<index], as: UTF8.self)
                index += 1
                return result
            }
            if byte < 0x20 {
                throw error(
                    byte == 0x0A
                        ? "unterminated string (a line break inside a string must be written \\n)"
                        : "control character in a string")
            }
            guard byte == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            result += String(decoding: bytes[run..<index], as: UTF8.self)
            index += 1
            guard index < bytes.count else { throw error("unterminated string") }
            let escaped = bytes[index]
            index += 1
            if let simple = JSONEscape.simple(escaped) {
                result.unicodeScalars.append(Unicode.Scalar(simple))
            } else if escaped == UInt8(ascii: "u") {
                var code = try hex4()
                if JSONEscape.isHighSurrogate(code) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    else {
                        throw error("a \\u escape of a high surrogate must be followed by a low surrogate")
                    }
                    index += 2
                    let low = try hex4()
                    guard JSONEscape.isLowSurrogate(low) else { throw error("invalid low surrogate in \\u escape") }
                    code = JSONEscape.scalar(high: code, low: low)
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                result.unicodeScalars.append(scalar)
            } else {
                throw error("invalid escape \\\(describe(escaped))")
            }
            run = index
        }
    }

    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw error("a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = JSONEscape.hexDigit(bytes[index]) else {
                throw error("a \\u escape needs four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// Whether `bracket` comes next, closing an empty array or object (and if so, consumes it).
    private mutating func closesAtOnce(_ bracket: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == bracket else { return false }
        index += 1
        return true
    }

    mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONNode.Value {
        index += 1
        var items: [JSONNode] = []
        if closesAtOnce(UInt8(ascii: "]")) { return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of file: the array is not closed with ]") }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { throw error("trailing comma before ]") }
            case UInt8(ascii: "]"):
                index += 1
                return .array(items)
            default:
                throw error("expected , or ] in the array, found \(describe(bytes[index]))")
            }
        }
    }

    mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONNode.Value {
        index += 1
        var members: [JSONNode.Member] = []
        var seen: Set<String> = []
        if closesAtOnce(UInt8(ascii: "}")) { return .object(members) }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of file: the object is not closed with }") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                throw error(
                    bytes[index] == UInt8(ascii: "}")
                        ? "trailing comma before }" : "expected a key in double quotes, found \(describe(bytes[index]))"
                )
            }
            let keyLine = line, keyColumn = column
            let key = try string()
            guard seen.insert(key).inserted else {
                throw JSONSyntaxError(line: keyLine, column: keyColumn, message: "duplicate key \"\(key)\"")
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw error("expected : after the key \"\(key)\"")
            }
            index += 1
            skipWhitespace()
            members.append(
                JSONNode.Member(key: key, value: try value(depth: depth + 1), keyLine: keyLine, keyColumn: keyColumn))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of file: the object is not closed with }") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(members)
            default:
                throw error("expected , or } after the value of \"\(key)\", found \(describe(bytes[index]))")
            }
        }
    }

    func describe(_ byte: UInt8) -> String {
        byte >= 0x21 && byte < 0x7F
            ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + String(byte, radix: 16, uppercase: true)
    }
}
