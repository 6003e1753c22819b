import Testing

@testable import DeviceWatchCore

@Suite("Text limits and inert text")
struct TextTests {
    /// (text, limit, expected): cuts land on grapheme boundaries and end in `…`.
    @Test(arguments: [
        ("hello", 10, "hello"),
        ("hello world", 6, "hello…"),
        ("🇺🇦🇺🇦🇺🇦", 5, "🇺🇦…"),  // a flag is 2 code points and 4 UTF-16 units
        ("🇺🇦🇺🇦🇺🇦", 4, "…"),
        ("👨‍👩‍👧 x", 9, "👨‍👩‍👧…"),  // a ZWJ family of three is 8 UTF-16 units
        ("👨‍👩‍👧 x", 8, "…"),  // and is never split
        ("e\u{301}e\u{301}e\u{301}", 5, "e\u{301}e\u{301}…"),
        ("監視カメラ", 3, "監視…"),
    ])
    func cutsOnGraphemeBoundaries(text: String, limit: Int, expected: String) {
        #expect(text.capped(TextLimit(limit)) == expected)
        #expect(text.capped(TextLimit(limit)).utf16.count <= limit)
    }

    @Test func byteLimitsCountUTF8() {
        let cjk = String(repeating: "監", count: 100)  // 3 bytes each
        let cut = cjk.capped(TextLimit(1000, bytes: 30))
        #expect(cut.utf8.count <= 30)
        #expect(cut == String(repeating: "監", count: 9) + "…")
    }

    @Test func textThatFitsIsUnchanged() {
        for text in ["", "cam-1", "🇺🇦", "監視カメラ"] {
            #expect(text.capped(TextLimit(8)) == text)
        }
    }

    @Test func aGraphemeTooLongToFitIsCutBetweenScalars() {
        let zalgo = "a" + String(repeating: "\u{301}", count: 5000)
        let cut = zalgo.capped(TextLimit(10))
        #expect(cut.unicodeScalars.count == 10 && cut.utf16.count == 10)
        #expect(cut.hasSuffix("…"))
    }

    @Test(arguments: [
        ("plain name", "plain name"),
        ("gate\u{202E}gpj.exe", "gategpj.exe"),
        ("a\u{2066}b\u{2069}c\u{200F}", "abc"),
        ("nul\u{0}esc\u{1B}[31m", "nul\u{FFFD}esc\u{FFFD}[31m"),
        ("two\r\nlines\nand\ttab", "two lines and tab"),
        ("c1\u{85}next", "c1 next"),
        ("👨‍👩‍👧 stays", "👨‍👩‍👧 stays"),
    ])
    func linesLoseControlsBidiOverridesAndBreaks(text: String, expected: String) {
        #expect(InertText.line(text) == expected)
    }

    @Test func blocksKeepTheirLineBreaks() {
        #expect(InertText.block("one\r\ntwo\rthree\u{202E}") == "one\ntwo\nthree")
    }
}

@Suite("Source text")
struct SourceTextTests {
    @Test func validUTF8DecodesAsIs() throws {
        #expect(try SourceText.decode(Array("héllo\n監視".utf8)).get() == "héllo\n監視")
    }

    @Test(arguments: [
        ([0x61, 0x0A, 0x62, 0xE9, 0xFF], 2, 2, 0xE9 as UInt8),  // Latin-1 é on line 2
        ([0xC3, 0xA9, 0x80], 1, 2, 0x80),  // a stray continuation byte after é
        ([0xED, 0xA0, 0x80], 1, 1, 0xED),  // an encoded surrogate
        ([0xF0, 0x9F, 0x98], 1, 1, 0xF0),  // cut short at the end
    ])
    func theFirstBadByteIsFoundWithItsLineAndColumn(bytes: [UInt8], line: Int, column: Int, byte: UInt8) {
        #expect(SourceText.decode(bytes) == .failure(SourceText.InvalidUTF8(line: line, column: column, byte: byte)))
    }
}
