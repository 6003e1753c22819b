/// An agent version such as `1.10.0`, `v1.4`, `2.0.0-rc.1+build.7`, ordered numerically.
///
/// Components compare as numbers (`1.10.0` > `1.9.9`), missing components count as 0
/// (`1.4` == `1.4.0`), a pre-release orders below its release (`1.4.0-rc.1` < `1.4.0`) and
/// pre-release identifiers compare as in Semantic Versioning; build metadata is ignored.
public struct Version: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var components: [UInt64]
    /// Dot-separated pre-release identifiers; empty for a release.
    public var prerelease: [String]

    public init(components: [UInt64], prerelease: [String] = []) {
        self.components = components
        self.prerelease = prerelease
    }

    /// Parses a version; nil when it is not dotted numeric (with optional `v`, pre-release, build).
    public init?(_ text: String) {
        var body = Substring(text.trimmingASCIIWhitespace())
        if let first = body.first, first == "v" || first == "V" { body = body.dropFirst() }
        if let plus = body.firstIndex(of: "+") { body = body[..<plus] }
        var release = body
        var prerelease: [String] = []
        if let dash = body.firstIndex(of: "-") {
            release = body[..<dash]
            let tail = body[body.index(after: dash)...]
            prerelease = tail.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !prerelease.isEmpty,
                prerelease.allSatisfy({
                    !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                })
            else { return nil }
        }
        var components: [UInt64] = []
        for part in release.split(separator: ".", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let value = UInt64(part)
            else { return nil }
            components.append(value)
        }
        guard !components.isEmpty else { return nil }
        self.init(components: components, prerelease: prerelease)
    }

    public var description: String {
        components.map(String.init).joined(separator: ".")
            + (prerelease.isEmpty ? "" : "-" + prerelease.joined(separator: "."))
    }

    public static func == (lhs: Version, rhs: Version) -> Bool {
        compare(lhs, rhs) == 0
    }

    public func hash(into hasher: inout Hasher) {
        var trimmed = components
        while trimmed.last == 0 { trimmed.removeLast() }
        hasher.combine(trimmed)
        hasher.combine(prerelease)
    }

    public static func < (lhs: Version, rhs: Version) -> Bool {
        compare(lhs, rhs) < 0
    }

    /// -1, 0 or 1.
    static func compare(_ lhs: Version, _ rhs: Version) -> Int {
        for index in 0..<max(lhs.components.count, rhs.components.count) {
            let a = index < lhs.components.count ? lhs.components[index] : 0
            let b = index < rhs.components.count ? rhs.components[index] : 0
            if a != b { return a < b ? -1 : 1 }
        }
        switch (lhs.prerelease.isEmpty, rhs.prerelease.isEmpty) {
        case (true, true): return 0
        case (true, false): return 1
        case (false, true): return -1
        case (false, false): break
        }
        for index in 0..<min(lhs.prerelease.count, rhs.prerelease.count) {
            let a = lhs.prerelease[index], b = rhs.prerelease[index]
            if a == b { continue }
            switch (UInt64(a), UInt64(b)) {
            case (let x?, let y?): return x < y ? -1 : 1
            case (_?, nil): return -1  // numeric identifiers order below alphanumeric ones
            case (nil, _?): return 1
            case (nil, nil): return a < b ? -1 : 1
            }
        }
        return lhs.prerelease.count == rhs.prerelease.count ? 0 : (lhs.prerelease.count < rhs.prerelease.count ? -1 : 1)
    }
}

extension String {
    func trimmingASCIIWhitespace() -> Substring {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" || first == "\n" || first == "\r" {
            slice = slice.dropFirst()
        }
        while let last = slice.last, last == " " || last == "\t" || last == "\n" || last == "\r" {
            slice = slice.dropLast()
        }
        return slice
    }
}
