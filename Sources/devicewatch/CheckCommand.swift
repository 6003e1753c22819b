import ArgumentParser
import DeviceWatch
import DeviceWatchCore
import Foundation

/// `devicewatch check`: validates the configuration, every rule file and template.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration, rule files and templates, and report every problem.",
        discussion: """
            Reads the configuration and every rule file it names, and prints each problem with its file, \
            line and column, rule id and JSON path, then a summary. Exit 0 when everything is valid, 1 when \
            not. It never contacts the API or a receiver. A workspace whose API key (its own api_key_env or \
            api_key_file, else api's) cannot be read here is reported as a warning: the worker will not start \
            without it, but check may run where the secrets are not (a CI job).
            """)

    @Option(help: "The configuration file.")
    var config: String = "devicewatch.json"

    @Flag(help: "Also show, for every rule, where its alerts go (its own notify, the routes, or defaults.notify).")
    var routes = false

    func run() throws {
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(configPath: config)
        } catch {
            for diagnostic in error.diagnostics { print(diagnostic.description) }
            let count = error.diagnostics.count
            throw CLIFailure(message: "\(count) problem\(count == 1 ? "" : "s") found", code: 1)
        }
        for problem in loaded.unreadableAPIKeys() { print("warning: \(problem)") }
        for problem in loaded.unreadableStartSecrets() { print("warning: \(problem)") }
        let files = loaded.ruleFiles.count, rules = loaded.rules.rules.count,
            receivers = loaded.configuration.receivers.count
        if routes {
            let defaults = RoutingDefaults(loaded.configuration.defaults)
            for line in RouteTable.describe(loaded.rules.rules, defaults: defaults) { print(line) }
        }
        print(
            "\(files) rule file\(files == 1 ? "" : "s"), \(rules) rule\(rules == 1 ? "" : "s"), "
                + "\(receivers) receiver\(receivers == 1 ? "" : "s"): OK")
    }
}
