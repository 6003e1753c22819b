import DeviceAPISimulator
import Foundation
import Synchronization

/// `devicewatch run` in the background.
final class WorkerProcess {
    let process = Process()
    let stderr = Pipe()
    private let errorText = LogBuffer()

    init(config: String, environment: [String: String], arguments: [String] = ["--log-level", "debug"]) throws {
        process.executableURL = CommandRunner.binary
        process.arguments = ["run", "--config", config] + arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DEVICEWATCH_CRASH_AT")
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        errorText.collect(stderr)
        try process.run()
    }

    /// A test that fails before it stops the worker must not leave it polling in the background.
    deinit {
        if process.isRunning { process.terminate() }
        stderr.fileHandleForReading.readabilityHandler = nil
    }

    var log: String { errorText.text }

    /// Polls completed and evaluated so far (the worker logs each at debug level).
    var polls: Int { log.components(separatedBy: "polled the workspace").count - 1 }

    /// Waits until `count` more polls have been evaluated: the proof that something ran before a
    /// test asserts that nothing more happened.
    func waitForMorePolls(_ count: Int, seconds: Double = 30) async -> Bool {
        let target = polls + count
        let deadline = Date().addingTimeInterval(seconds)
        while polls < target, Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return polls >= target
    }

    /// Waits for the process to end by itself (a crash point) or `seconds`, without holding a
    /// thread of the test's cooperative pool (on 2 cores, two blocked tests would stall every other).
    func waitForExit(seconds: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// `http://127.0.0.1:PORT` of the ops server, once it says it listens (port 0 picks one).
    func opsAddress() async -> String? {
        var address: String?
        _ = await waitFor(seconds: 20) {
            guard
                let range = log.range(
                    of: #"ops server listening on http://127\.0\.0\.1:\d+"#, options: .regularExpression)
            else { return false }
            address = String(log[range].dropFirst("ops server listening on ".count))
            return true
        }
        return address
    }

    func terminate() async -> Int32? {
        if process.isRunning { process.terminate() }
        return await waitForExit(seconds: 15)
    }
}

/// What a background process writes to one of its pipes, as it comes.
final class LogBuffer: Sendable {
    private let data = Mutex(Data())
    func append(_ more: Data) { data.withLock { $0.append(more) } }
    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }

    /// Appends what `pipe` gives from now on. At the end of the stream the handler is taken off:
    /// left on a closed handle, libdispatch's event loop can crash the whole test process (seen on CI).
    func collect(_ pipe: Pipe) {
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { append(data) }
        }
    }
}
