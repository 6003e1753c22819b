/// The text of a file a person wrote (configuration, rules, templates), decoded strictly.
///
/// A byte that is not UTF-8 is never replaced silently (a rule file saved as Latin-1 would change
/// meaning without a word): the first one is reported with its line and column, counted as the
/// JSON parser counts them (columns in characters).
public enum SourceText {
    public struct InvalidUTF8: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var column: Int
        /// The byte that starts the invalid sequence.
        public var byte: UInt8

        public var description: String {
            "byte 0x\(String(byte, radix: 16, uppercase: true)) at line \(line), column \(column) is not UTF-8; save the file as UTF-8"
        }
    }

    public static func decode(_ bytes: [UInt8]) -> Result<String, InvalidUTF8> {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        var line = 1
        var column = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == 0x0A {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
                offset += encoded.count
            case .error:
                return .failure(InvalidUTF8(line: line, column: column, byte: bytes[offset]))
            case .emptyInput:
                return .success(String(decoding: bytes, as: UTF8.self))
            }
        }
    }
}
