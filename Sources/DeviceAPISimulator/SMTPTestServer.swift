import Foundation

/// A real SMTP server (aiosmtpd) on loopback for tests, run by `Tests/Tools/smtp-server.py` (a
/// source checkout and python3 with aiosmtpd needed): what it received is read back as Python's
/// email package parsed it.
public final class SMTPTestServer {
    let process = Process()
    public let folder: URL
    public let port: Int
    /// The server's self-signed certificate, to trust as a CA.
    public let caFile: String

    /// - Parameter tls: `starttls` (required before anything else), `implicit` (smtps) or `none`.
    public init(tls: String = "starttls", user: String? = "devicewatch", password: String? = "s3cret-smtp-password")
        throws
    {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dw-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tests/Tools/smtp-server.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", script.path, folder.path, "--tls", tls]
        if let user, let password { arguments += ["--user", user, "--password", password] }
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        // It runs until its standard input closes: this pipe, when the test process ends.
        process.standardInput = Pipe()
        try process.run()
        let line = firstLine(of: out)
        let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        guard let port = json?["port"] as? Int, let ca = json?["ca"] as? String else {
            process.terminate()
            throw StartError(firstLine: line)
        }
        self.port = port
        caFile = ca
    }

    deinit {
        process.terminate()
        try? FileManager.default.removeItem(at: folder)
    }

    public struct StartError: Error { public var firstLine: String }

    /// Every message the server answered, accepted or refused, in order, as parsed.
    public func messages() throws -> [[String: Any]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
            .sorted()
        return try names.map { name in
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            guard let message = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw StartError(firstLine: "\(name) is not a JSON object")
            }
            return message
        }
    }
}

/// The first line a child process writes to `pipe` (its address, once it listens), byte by byte
/// so nothing after it is read.
public func firstLine(of pipe: Pipe) -> String {
    var line = Data()
    while true {
        let byte = pipe.fileHandleForReading.readData(ofLength: 1)
        if byte.isEmpty || byte.first == UInt8(ascii: "\n") { break }
        line.append(byte)
    }
    return String(decoding: line, as: UTF8.self)
}
