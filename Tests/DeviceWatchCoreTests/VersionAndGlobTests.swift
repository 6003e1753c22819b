import DeviceWatchCore
import PropertyBased
import Testing

@Suite("Version")
struct VersionTests {
    @Test(arguments: [
        ("1.10.0", "1.9.9", 1), ("1.4.0", "1.4", 0), ("v1.4.0", "1.4.0", 0), ("1.4.0-rc.1", "1.4.0", -1),
        ("1.4.0-rc.2", "1.4.0-rc.10", -1), ("1.4.0-alpha", "1.4.0-beta", -1), ("1.4.0-1", "1.4.0-alpha", -1),
        ("1.4.0+build.7", "1.4.0", 0), ("2", "1.99.99", 1), ("1.4.0-rc", "1.4.0-rc.1", -1), ("0.0.1", "0.0.0", 1),
    ])
    func ordersAsDocumented(a: String, b: String, order: Int) throws {
        let lhs = try #require(Version(a)), rhs = try #require(Version(b))
        #expect((lhs < rhs ? -1 : (lhs == rhs ? 0 : 1)) == order)
    }

    @Test(arguments: ["", "v", "1..2", "1.2.x", "latest", "1.2.3-", "1.2.3-rc..1", "-1.2", " ", "1.2.3 beta"])
    func rejectsWhatIsNotAVersion(text: String) {
        #expect(Version(text) == nil)
    }

    static let versions = Gen.int(in: 0...3).array(of: 1...4).map { parts -> Version in
        Version(components: parts.map(UInt64.init))
    }

    @Test func orderIsTotalAndConsistentWithComponents() async {
        await propertyCheck(input: Self.versions, Self.versions, Self.versions) { a, b, c in
            // Exactly one of <, ==, > holds.
            #expect([a < b, a == b, b < a].filter { $0 }.count == 1)
            // Transitive.
            if a < b, b < c { #expect(a < c) }
            // Consistent with numeric components, zero-padded.
            let width = max(a.components.count, b.components.count)
            let pa = a.components + Array(repeating: 0, count: width - a.components.count)
            let pb = b.components + Array(repeating: 0, count: width - b.components.count)
            #expect((a < b) == pa.lexicographicallyPrecedes(pb))
        }
    }

    @Test func aPrereleaseIsBelowItsReleaseAndAboveThePrevious() async {
        await propertyCheck(input: Self.versions, Gen.int(in: 0...20)) { version, number in
            let pre = Version(components: version.components, prerelease: ["rc", String(number)])
            #expect(pre < version)
            #expect(Version(components: version.components + [0], prerelease: []) == version)
        }
    }
}

@Suite("Glob")
struct GlobTests {
    @Test(arguments: [
        ("cam-*", "cam-1", true), ("cam-*", "cam-", true), ("cam-*", "dock-cam", false), ("*-cam", "dock-cam", true),
        ("site-?", "site-a", true), ("site-?", "site-ab", false), ("*a*b*", "xxaxxbxx", true), ("*a*b", "ab_ba", false),
        ("exact", "exact", true), ("exact", "exactly", false), ("*", "", true), ("?", "é", true),
        ("a*b*c", "abcabc", true),
        // A literal prefix and one `*` compares bytes: scalar by scalar, as the general match does.
        ("site-*", "site-b", true), ("site-*", "site", false), ("site-**", "site-", true), ("é-*", "e\u{301}-1", false),
        ("e\u{301}-*", "e\u{301}-1", true), ("*", "anything", true), ("a?*", "a", false),
    ])
    func matches(pattern: String, text: String, expected: Bool) {
        #expect(Glob(pattern).matches(text) == expected)
    }
}
