import ArgumentParser
import Foundation

/// `devicewatch`: the root command.
struct DeviceWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devicewatch",
        abstract: "Alerting for fleets of edge devices managed by Roboflow Deployment Manager.",
        discussion: """
            devicewatch polls the Deployment Manager Devices API, evaluates your rules against every \
            device and sends deduplicated, durable notifications. The API key and receiver secrets come \
            from the environment or files, never from the command line.

            Try it without an account:   devicewatch demo
            With your workspace:         devicewatch check --config devicewatch.json
                                         devicewatch eval --config devicewatch.json
                                         devicewatch run --config devicewatch.json

            Exit codes: 0 ok, 1 other failure, 2 usage error, 3 authentication or authorization (401, 403, or 404 GraphMethodException: no device:read), \
            4 not found (404), 5 API unavailable after retries.
            """,
        subcommands: [
            RunCommand.self, DemoCommand.self, CheckCommand.self, EvalCommand.self, RuleTestCommand.self,
            SilenceCommand.self, AckCommand.self, NotifyCommand.self, NotificationsCommand.self, StateCommand.self,
            DevicesCommand.self,
            SimulateCommand.self, ReportCommand.self,
        ]
    )
}

/// A failure the command has already explained; `main` prints it and exits with `code`.
struct CLIFailure: Error {
    var message: String
    var code: Int32
}

@main
enum Main {
    static func main() async {
        // Before any other thread allocates: arenas are made on a thread's first contended malloc.
        useOneMallocArena()
        do {
            var command = try DeviceWatchCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CLIFailure {
            printError(failure.message)
            exit(failure.code)
        } catch {
            let code = DeviceWatchCommand.exitCode(for: error)
            let message = DeviceWatchCommand.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(0)
            }
            printError(message)
            // Parse and validation errors are usage errors: 2, as the help text promises.
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("devicewatch: " + message + "\n").utf8))
}
