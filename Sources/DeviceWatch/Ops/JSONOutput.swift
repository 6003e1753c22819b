import Foundation

/// The JSON devicewatch writes for people and programs to read: the ops API (`/api/v1/*`,
/// `/readyz`) and the CLI's JSON output (`eval --format json`, `report ... --format json`), so the
/// two say the same thing the same way.
///
/// Keys are the Swift names in snake_case (`evaluatedAt` is `evaluated_at`), so the shapes need no
/// `CodingKeys`; the keys of a dictionary (labels, workspaces, rule ids) stay as written. Keys are
/// sorted and indented, and slashes are left as written, so links stay readable.
public enum JSONOutput {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func string(_ value: some Encodable) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    /// For request bodies written the same way (`POST /api/v1/silences`).
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
