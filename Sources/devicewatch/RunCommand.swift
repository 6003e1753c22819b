import ArgumentParser
import DeviceWatch
import DeviceWatchCore
import Foundation
import Logging
import ServiceLifecycle

/// `devicewatch run`: the worker.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker: poll, evaluate, and deliver notifications until stopped.",
        discussion: """
            Polls every configured workspace, evaluates the rules, keeps alert state and the notification \
            outbox in the state store, and delivers through the receivers. SIGTERM or Ctrl-C stops polling, \
            delivers what is due for up to 10 s, and exits 0; what is left is delivered at the next start.

            Edits to the configuration, rule and template files (or SIGHUP) reload them once they validate; \
            a bad edit is logged and the last good configuration keeps running.

            The ops server (server.listen, default 127.0.0.1:9464) serves the status page at /, /healthz, \
            /readyz, /metrics (Prometheus) and /api/v1/{alerts,silences,notifications}.
            """)

    @Option(help: "The configuration file.")
    var config: String = "devicewatch.json"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(
        name: .customLong("log-format"),
        help: "text, or json: one object per line with timestamp, level, label, message and metadata.")
    var logFormat: String = "text"

    func validate() throws {
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format must be text or json") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "devicewatch")
        logger.logLevel = level
        let loaded = try loadConfiguration(config)
        let worker = Worker(loaded: loaded, logger: logger)
        do {
            _ = try await worker.prepare()
        } catch {
            throw CLIFailure(message: "cannot start: \(error)", code: 1)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [worker], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as OpsServerError {
            throw CLIFailure(message: error.description, code: 1)
        } catch let error as StoreGaveUp {
            throw CLIFailure(message: error.description, code: 1)
        }
    }
}
