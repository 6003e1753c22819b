/// A JSON value with the line and column where it starts, so configuration errors can point at it.
public struct JSONNode: Sendable, Equatable {
    public indirect enum Value: Sendable, Equatable {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([JSONNode])
        /// Members in file order (duplicates are reported by the parser, never kept).
        case object([Member])
    }

    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONNode
        /// Where the key starts (its opening quote), for problems with the key itself.
        public var keyLine: Int
        public var keyColumn: Int

        public init(key: String, value: JSONNode, keyLine: Int, keyColumn: Int) {
            self.key = key
            self.value = value
            self.keyLine = keyLine
            self.keyColumn = keyColumn
        }
    }

    public init(value: Value, line: Int, column: Int) {
        self.value = value
        self.line = line
        self.column = column
    }

    public var value: Value
    /// 1-based line of the value's first character.
    public var line: Int
    /// 1-based column (in characters) of the value's first character.
    public var column: Int

    /// What kind of value this is, for messages: "a number", "the string \"x\"".
    public var kindDescription: String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let number):
            number == number.rounded() && abs(number) < 1e15 ? "the number \(Int(number))" : "the number \(number)"
        case .string(let text): "the string \"\(text.count > 40 ? String(text.prefix(40)) + "…" : text)\""
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The member named `key`, for objects.
    public subscript(key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        return members.first { $0.key == key }?.value
    }
}

/// JSON that does not parse: where and why.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "line \(line), column \(column): \(message)" }
}
