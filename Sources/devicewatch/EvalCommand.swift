import ArgumentParser
import CurlHTTP
import DeviceWatch
import DeviceWatchCore
import Foundation

/// `devicewatch eval`: one poll now, what would fire and why; sends nothing.
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Poll once and show what would fire and why. Sends nothing, writes no state.",
        discussion: """
            Evaluates every rule against the devices of each configured workspace (or of --workspace), at \
            the API's clock (its Date header). With --devices, reads a saved list response instead of \
            polling. Findings are grouped by rule, each with the facts that made it match. Then the \
            worker's own cycle runs on this poll, from the worker's stored state when there is one (read \
            only): which alerts would change state (for, keep_firing_for) and which notifications it \
            would plan now (grouping, group_wait, silences), exactly as `devicewatch run` decides.
            """)

    @Option(help: "The configuration file.")
    var config: String = "devicewatch.json"

    @Option(help: "Evaluate only this workspace (default: every configured one).")
    var workspace: String?

    @Option(help: "Read the device list from this file (a saved list response) instead of polling the API.")
    var devices: String?

    @Option(help: "Evaluate at this time (ISO-8601) instead of the API's clock.")
    var at: String?

    @Option(help: "Output format: table or json.")
    var format: DevicesCommand.OutputFormat = .table

    func validate() throws {
        if let at, Timestamp.parse(at) == nil {
            throw ValidationError("--at must be an ISO-8601 time such as 2026-11-28T12:00:00Z, not \"\(at)\"")
        }
    }

    func run() async throws {
        let loaded = try loadConfiguration(config)
        var workspaces = loaded.configuration.workspaces.map(\.id)
        if let workspace { workspaces = [workspace] }
        if devices != nil, workspaces.count != 1 {
            workspaces = [workspace ?? workspaces.first ?? "default"]
        }
        // When the worker has run, its stored state: the first-seen times serve unknown_for without
        // created_at, and the next cycle is previewed from it (read only: nothing is written).
        let existing = try? await loaded.existingStore()
        let stored = await (try? existing?.load())
        let firstSeen = stored?.book.firstSeen ?? [:]
        let configuration = loaded.configuration
        let settings = AlertCycle.Settings(
            rules: loaded.rules,
            defaults: RoutingDefaults(
                configuration.defaults, metaReceivers: configuration.metaReceivers,
                groupsPerWorkspace: { if case .postgres = configuration.state { true } else { false } }()),
            staleAfter: configuration.defaults.staleAfter)
        var state = AlertState(book: stored?.book ?? AlertBook(), routing: stored?.routing ?? RoutingState())
        var reports: [EvaluationReport] = []
        for id in workspaces {
            let (list, apiDate) = try await deviceList(for: id, loaded: loaded)
            let (date, source): (Date, EvaluationTime.Source) =
                at.flatMap(Timestamp.parse).map { ($0, .given) }
                ?? EvaluationTime.choose(apiDate: apiDate, local: Date())
            let evaluation = loaded.rules.evaluate(
                workspace: id, devices: list, firstSeen: firstSeen[id] ?? [:], at: date, fleetMembers: true)
            let cycle = CyclePreview.run(
                &state, fromStoredState: stored != nil, workspace: id, devices: list, at: date, settings: settings,
                silences: stored?.silences ?? [],
                acknowledgements: await (try? existing?.acknowledgements(includeExpired: false, at: date)) ?? [])
            reports.append(
                EvaluationReport(
                    workspace: id, at: date, clock: source, deviceCount: list.count, evaluation: evaluation,
                    rules: loaded.rules, cycle: cycle))
        }
        switch format {
        case .table:
            print(reports.map(\.text).joined(separator: "\n\n"))
        case .json:
            print(try JSONOutput.string(reports.map(\.json)))
        }
    }

    private func deviceList(for workspace: String, loaded: LoadedConfiguration) async throws -> ([Device], Date?) {
        if let devices {
            guard let body = FileManager.default.contents(atPath: devices) else {
                throw CLIFailure(message: "cannot read \(devices)", code: 2)
            }
            do {
                let decoded = try DeviceListDecoder.decodeList(body)
                for line in (decoded.skipped.map(\.description) + decoded.warnings.map(\.description)).prefix(10) {
                    printError("warning: \(line)")
                }
                return (decoded.devices, nil)
            } catch {
                throw CLIFailure(message: "\(devices): \(error)", code: 2)
            }
        }
        let key: Secret
        let reference =
            loaded.configuration.workspaces.first { $0.id == workspace }.map(loaded.configuration.apiKey(for:))
            ?? loaded.configuration.api.apiKey
        do {
            key = try loaded.secret(reference)
        } catch {
            throw CLIFailure(
                message: "no API key for workspace \"\(workspace)\" (from the \(reference)): \(error)", code: 3)
        }
        let client = DevicesAPIClient(
            baseURL: loaded.configuration.api.baseURL, apiKey: key, http: CurlHTTPClient(),
            retry: RetryPolicy(maxAttempts: 3, maxTotal: .seconds(60)),
            requestTimeout: loaded.configuration.api.timeout)
        do {
            let result = try await client.list(workspace: workspace)
            return (result.devices, result.apiDate)
        } catch {
            throw CLIFailure(message: error.description, code: cliExitCode(for: error))
        }
    }
}
