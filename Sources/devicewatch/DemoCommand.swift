import ArgumentParser
import DeviceAPISimulator
import DeviceWatch
import DeviceWatchCore
import Foundation
import Logging
import ServiceLifecycle

/// `devicewatch demo`: a simulated fleet, the shipped rules and the console receiver in one process.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Watch a simulated fleet with the shipped rules; notifications print here. No account, no network.",
        discussion: """
            Runs the Devices API simulator with a 40-device fleet (two sites, production and staging, a few never \
            provisioned, mixed rfdm versions, devices that drop off and come back, a camera with a flaky uplink \
            that flaps, a site-wide outage 40 minutes in) \
            and the worker with rules/*.json, notifying the console, \
            escalating to email-managers (the console too) what nobody acknowledges within 10 fleet minutes, while \
            "alice" acknowledges the first alert, \
            with a week of past fleet history (outages, a flapping camera, two hours unwatched) already in its state, with the ops server (status page, metrics, API) on --listen. Fleet \
            time runs --time-scale times faster (60: a minute is an hour). Stop with Ctrl-C, or give --duration.
            """)

    @Option(help: "The demo's scenario file.")
    var scenario: String = "examples/demo/scenario.json"

    @Option(help: "The demo's configuration (its API URL and state file are replaced).")
    var config: String = "examples/demo/devicewatch.json"

    @Option(name: .customLong("time-scale"), help: "Fleet seconds per real second.")
    var timeScale: Double = 60

    @Option(help: "Stop after this long (real time), e.g. 2m.")
    var duration: String?

    @Option(help: "Where the status page and metrics listen (HOST:PORT; port 0 picks a free one).")
    var listen: String = "127.0.0.1:9464"

    @Option(
        help: ArgumentHelp(
            "Keep the demo's state in this SQLite file (default: a temporary one, deleted at the end), e.g. to run `devicewatch report ... --state FILE` on it.",
            valueName: "FILE"))
    var state: String?

    func validate() throws {
        if let state, FileManager.default.fileExists(atPath: state) {
            throw ValidationError(
                "--state \(state) exists; the demo starts from a new file (remove it or name another)")
        }
        guard timeScale > 0, timeScale.isFinite else { throw ValidationError("--time-scale must be above 0") }
        if let duration, DurationText.seconds(duration) == nil {
            throw ValidationError("--duration must be a duration such as 2m")
        }
        guard let colon = listen.lastIndex(of: ":"), colon > listen.startIndex,
            Int(listen[listen.index(after: colon)...]) != nil
        else {
            throw ValidationError("--listen must be HOST:PORT, e.g. 127.0.0.1:9464 (port 0 picks a free one)")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let now = Date()
        let fleet: Scenario
        do {
            fleet = try Scenario.load(contentsOf: scenario, now: now)
        } catch {
            throw CLIFailure(message: "\(error) (run the demo from the repository's root, or pass --scenario)", code: 2)
        }
        var loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(configPath: config)
        } catch {
            throw CLIFailure(message: "the demo configuration has problems:\n\(error)", code: 1)
        }
        let keep = self.state != nil
        let state =
            self.state
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "devicewatch-demo-\(UUID().uuidString).db"
            ).path
        loaded.configuration.state = .sqlite(path: state)
        loaded.configuration.server.listen = listen
        setenv("DEVICEWATCH_DEMO_KEY", fleet.workspaces["demo"]?.apiKeys.first?.key ?? "demo-key", 1)
        defer {
            if !keep {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: state + suffix) }
            }
        }
        // The past week first: the simulated fleet's clock starts only once it is written, so
        // however long that takes, the live part begins where the scenario does.
        do {
            let store = try SQLiteStateStore(path: state)
            _ = try await DemoHistory.backfill(fleet, workspace: "demo", loaded: loaded, store: store, now: now)
        } catch {
            throw CLIFailure(message: "cannot write the demo's past week of history: \(error)", code: 1)
        }
        let simulator = DevicesAPISimulator(scenario: fleet, now: now, timeScale: timeScale)
        let server = try await SimulatorServer.start(simulator)
        loaded.configuration.api.baseURL = server.baseURL

        let count = fleet.workspaces.values.map(\.devices.count).reduce(0, +)
        FileHandle.standardOutput.write(
            Data(
                """
                devicewatch demo: \(count) simulated devices in workspace "demo", fleet time \(Int(timeScale))x \
                (\(DurationText.format(seconds: timeScale)) of fleet time per real second).
                Rules: \(loaded.ruleFiles.map { URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)).standardizedFileURL.path }.joined(separator: ", ")) (\(loaded.rules.rules.count) rules); notifications print below.
                Simulated Devices API: \(server.baseURL) (key demo-key). Ctrl-C stops.

                """.utf8))
        var logger = Logger(label: "devicewatch.demo")
        logger.logLevel = .warning
        let worker = Worker(loaded: loaded, logger: logger) { address in
            FileHandle.standardOutput.write(Data("Status page: \(address)/  (metrics: \(address)/metrics)\n\n".utf8))
        }
        let group = ServiceGroup(
            configuration: .init(services: [worker], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let stopper = Task {
            guard let length = duration.flatMap(DurationText.duration) else { return }
            try await Task.sleep(for: length)
            await group.triggerGracefulShutdown()
        }
        defer { stopper.cancel() }
        let onCall = Task { await DemoOnCall.acknowledgeFirst(statePath: state, delay: 5 * 60 / timeScale) }
        defer { onCall.cancel() }
        do {
            try await group.run()
        } catch let error as OpsServerError {
            await server.stop()
            throw CLIFailure(message: "\(error); or run the demo with --listen 127.0.0.1:0", code: 1)
        }
        await server.stop()
    }
}
