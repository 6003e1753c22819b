/// Finds the elements of a list body's device array without decoding them, so the list can be
/// decoded a slice at a time.
///
/// Hand-written because Foundation's `JSONDecoder` builds an index of the whole document
/// first, which for a 100,000-device list costs about three times the body in memory; decoding
/// slices of a few thousand devices bounds that to a slice's worth. It only locates boundaries
/// (strings, escapes and nesting); anything it cannot follow returns nil, and the caller falls
/// back to decoding the body whole, which also gives the precise error.
enum JSONArraySplitter {
    /// The byte ranges of the elements of the top-level array, or of the array under the
    /// top-level object's `"data"` key.
    static func elementRanges(in bytes: UnsafeRawBufferPointer) -> [Range<Int>]? {
        var scanner = ByteScanner(bytes: bytes)
        scanner.skipWhitespace()
        switch scanner.current {
        case UInt8(ascii: "["):
            guard let ranges = scanner.arrayElements() else { return nil }
            scanner.skipWhitespace()
            return scanner.atEnd ? ranges : nil
        case UInt8(ascii: "{"):
            return scanner.dataArrayInObject()
        default:
            return nil
        }
    }
}

private struct ByteScanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    var atEnd: Bool { index >= bytes.count }
    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Moves past one string starting at `index` (on its opening quote); false when unterminated.
    mutating func skipString() -> Bool {
        index += 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""):
                index += 1
                return true
            default: index += 1
            }
        }
        return false
    }

    /// Moves past one value of any kind; false when it is cut off or unbalanced.
    mutating func skipValue() -> Bool {
        guard let first = current else { return false }
        switch first {
        case UInt8(ascii: "\""):
            return skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard skipString() else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return true
                    }
                default: break
                }
                index += 1
            }
            return false
        default:
            // A number or literal: up to the next delimiter.
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), 0x20, 0x0A, 0x0D, 0x09:
                    return index > start
                default: index += 1
                }
            }
            return index > start
        }
    }

    /// The element ranges of the array starting at `index`; leaves `index` after its `]`.
    mutating func arrayElements() -> [Range<Int>]? {
        index += 1
        var ranges: [Range<Int>] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            return ranges
        }
        while true {
            skipWhitespace()
            let start = index
            guard skipValue() else { return nil }
            ranges.append(start..<index)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return ranges
            default: return nil
            }
        }
    }

    /// In the object starting at `index`, the element ranges of its `"data"` array.
    mutating func dataArrayInObject() -> [Range<Int>]? {
        index += 1
        var found: [Range<Int>]?
        while true {
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                index += 1
                skipWhitespace()
                return atEnd ? found : nil
            }
            guard current == UInt8(ascii: "\"") else { return nil }
            let keyStart = index
            guard skipString() else { return nil }
            let isData =
                index - keyStart == 6 && bytes[keyStart + 1] == UInt8(ascii: "d")
                && bytes[keyStart + 2] == UInt8(ascii: "a") && bytes[keyStart + 3] == UInt8(ascii: "t")
                && bytes[keyStart + 4] == UInt8(ascii: "a")
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { return nil }
            index += 1
            skipWhitespace()
            if isData, current == UInt8(ascii: "[") {
                guard let ranges = arrayElements() else { return nil }
                found = ranges
            } else {
                guard skipValue() else { return nil }
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): continue
            default: return nil
            }
        }
    }
}
