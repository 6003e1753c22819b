import Foundation

/// An RFC 5322 message with a MIME `multipart/alternative` body (plain text and HTML), written
/// by hand because nothing in the package mirror builds mail: headers are ASCII (RFC 2047
/// encoded words for anything else), lines end in CRLF and stay under 78 characters, and each
/// part is UTF-8 in base64, so no device text can add a header, end a part or exceed a line limit.
struct MailMessage {
    /// Header fields in order; values are already encoded (``MailMessage/encodedWords(_:)``) or plain ASCII.
    var headers: [(name: String, value: String)] = []
    var plainText: String
    var html: String
    /// The MIME boundary: derived from the notification, so the same notification is the same bytes.
    var boundary: String

    /// The message's bytes.
    var data: Data {
        var out = ""
        for (name, value) in headers { out += "\(name): \(value)\r\n" }
        out += "MIME-Version: 1.0\r\n"
        out += "Content-Type: multipart/alternative; boundary=\"\(boundary)\"\r\n\r\n"
        out += "This is a multi-part message in MIME format.\r\n"
        for (type, text) in [("text/plain", plainText), ("text/html", html)] {
            out += "--\(boundary)\r\n"
            out += "Content-Type: \(type); charset=utf-8\r\n"
            out += "Content-Transfer-Encoding: base64\r\n\r\n"
            out += Self.base64Lines(Data(Self.crlf(text).utf8))
        }
        out += "--\(boundary)--\r\n"
        return Data(out.utf8)
    }

    /// Text with every line ending as CRLF.
    static func crlf(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .replacingOccurrences(of: "\n", with: "\r\n")
    }

    /// Base64 in lines of 76 characters (RFC 2045), each ending in CRLF.
    static func base64Lines(_ data: Data) -> String {
        let encoded = data.base64EncodedString()
        var out = ""
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            out += encoded[index..<end] + "\r\n"
            index = end
        }
        return out
    }

    /// A header value safe as it is (printable ASCII, no `=?` that a reader would decode, short
    /// enough for one line), or RFC 2047 `=?utf-8?B?…?=` words of at most 64 characters each,
    /// folded onto continuation lines, each word whole characters.
    static func encodedWords(_ text: String, headerName: String = "Subject") -> String {
        let plain = text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
        if plain, !text.contains("=?"), text.count + headerName.count + 2 <= 78 { return text }
        var words: [String] = []
        var chunk = Data()
        func flush() {
            guard !chunk.isEmpty else { return }
            words.append("=?utf-8?B?\(chunk.base64EncodedString())?=")
            chunk.removeAll()
        }
        // 39 bytes is 52 base64 characters: 64 with the markers, 73 after "Subject: ".
        for character in text {
            let bytes = Data(String(character).utf8)
            if bytes.count > 39 {
                // An outsized cluster (a long ZWJ sequence): by scalar, still never a split UTF-8 sequence.
                for scalar in character.unicodeScalars {
                    let scalarBytes = Data(String(scalar).utf8)
                    if chunk.count + scalarBytes.count > 39 { flush() }
                    chunk.append(scalarBytes)
                }
                continue
            }
            if chunk.count + bytes.count > 39 { flush() }
            chunk.append(bytes)
        }
        flush()
        return words.joined(separator: "\r\n ")
    }

    /// A display name and address for `From:`: the name quoted (or encoded when it is not ASCII).
    static func mailbox(_ header: String) -> String {
        guard header.hasSuffix(">"), let open = header.lastIndex(of: "<") else { return header }
        let name = header[..<open].trimmingCharacters(in: .whitespaces)
        let address = header[open...]
        let ascii = name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
        return (ascii ? "\"\(name)\"" : encodedWords(name, headerName: "From")) + " " + address
    }

    /// `Tue, 01 Dec 2026 23:44:39 +0000`.
    static func date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
