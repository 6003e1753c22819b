import ArgumentParser
import Foundation

/// `devicewatch`: the root command.
struct DeviceWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devicewatch",
        abstract: "Alerting for fleets of edge devices managed by Roboflow Deployment Manager.",
        discussion: """
            devicewatch polls the Deployment Manager Devices API and tells you about devices that \
            need attention. The API key comes from the ROBOFLOW_API_KEY environment variable or a file \
            (--api-key-file), never from the command line.

            Try it without an account:
              devicewatch simulate --scenario examples/simulator/basic.json --port 8080 &
              ROBOFLOW_API_KEY=ws-key devicewatch devices list --workspace acme --api-url http://127.0.0.1:8080

            Exit codes: 0 ok, 1 other failure, 2 usage error, 3 authentication or authorization (401/403), \
            4 not found (404), 5 API unavailable after retries.
            """,
        subcommands: [RunCommand.self, DemoCommand.self, CheckCommand.self, EvalCommand.self, RuleTestCommand.self, SilenceCommand.self, NotifyCommand.self, NotificationsCommand.self, DevicesCommand.self, SimulateCommand.self]
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
