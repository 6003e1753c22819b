import DeviceWatchCore
import Foundation
import Testing

/// The configuration parser and the persisted-format reader decode every JSON escape as
/// Foundation does (the device list scanner is compared with the Codable path in DeviceScannerTests).
struct JSONEscapeTests {
    static let escaped = #""q\" b\\ s\/ \b\f\n\r\t \u00e9 \uD83D\uDE00""#

    static var foundation: String {
        get throws { try JSONDecoder().decode(String.self, from: Data(escaped.utf8)) }
    }

    @Test func theConfigurationParserDecodesEveryEscape() throws {
        let node = try JSONParser.parse(Self.escaped)
        #expect(node.value == .string(try Self.foundation))
        #expect(try Self.foundation == "q\" b\\ s/ \u{08}\u{0C}\n\r\t é 😀")
    }

    @Test func thePersistedFormatReaderDecodesEveryEscape() throws {
        var reader = JSONReader(Data(Self.escaped.utf8))
        #expect(try reader.string() == Self.foundation)
    }

    @Test(arguments: [#""\x""#, #""\u12G4""#, #""\uD83D\u0041""#])
    func theConfigurationParserRejectsABadEscape(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
    }
}
