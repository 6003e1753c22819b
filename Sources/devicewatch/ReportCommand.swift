import ArgumentParser
import DeviceWatch
import DeviceWatchCore
import Foundation

/// `devicewatch report availability|alerts`: history from the state store.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Report availability and alert history from the state store.",
        discussion: """
            Reads the configured state store (SQLite or PostgreSQL) and only reads it: safe while the worker \
            runs. Times are on the Devices API's clock, as the worker judges them. Windows where devicewatch \
            could not see a workspace (the worker was down, or its polls failed) are "no data": never counted \
            as up or down.

              devicewatch report availability --config devicewatch.json --since 30d --by tag:site-* --target 99.5
              devicewatch report availability --config devicewatch.json --device cam-11 --since 7d
              devicewatch report alerts --config devicewatch.json --since 7d --rule camera-offline --format csv
            """,
        subcommands: [Availability.self, Alerts.self])

    struct Window: ParsableArguments {
        @Option(help: "The configuration file (its state store holds the history).")
        var config: String = "devicewatch.json"

        @Option(
            help: ArgumentHelp(
                "Read this SQLite state file instead of the configuration's store (e.g. one kept by `devicewatch demo --state`).",
                valueName: "FILE"))
        var state: String?

        @Option(
            help: ArgumentHelp(
                "Where the window starts: a duration back from now (24h, 7d, 30d) or a time (2026-11-01T00:00:00Z).",
                valueName: "DURATION|TIME"))
        var since: String = "24h"

        @Option(help: ArgumentHelp("Where the window ends (default: now).", valueName: "DURATION|TIME"))
        var until: String?

        @Option(help: "Only this workspace.")
        var workspace: String?

        @Option(help: "table (for people), csv (for spreadsheets) or json (what /api/v1 serves).")
        var format: HistoryOutput.Format = .table

        /// The window, on the API's clock as the worker last measured it.
        func window(_ store: any StateStore) async throws -> DateInterval {
            let offsets: [ClockOffset]
            do { offsets = try await store.clockOffsets() } catch {
                throw CLIFailure(message: error.description, code: 1)
            }
            let now = EngineClock(offsets).now(local: Date(), workspace: workspace)
            let start = try Self.time(since, now: now, option: "--since")
            let end = try until.map { try Self.time($0, now: now, option: "--until") } ?? now
            guard start < end else {
                throw ValidationError("the window is empty: --since \(since) is not before --until \(until ?? "now")")
            }
            return DateInterval(start: start, end: end)
        }

        static func time(_ text: String, now: Date, option: String) throws -> Date {
            if let seconds = DurationText.seconds(text), seconds > 0 { return now.addingTimeInterval(-seconds) }
            if let date = Timestamp.parse(text) { return date }
            throw ValidationError(
                "\(option) \(text) is neither a duration (24h, 7d, 30d) nor a time (2026-11-01T00:00:00Z)")
        }

        func store() async throws -> any StateStore {
            if let state {
                guard FileManager.default.fileExists(atPath: state) else {
                    throw CLIFailure(message: "there is no state database at \(state)", code: 1)
                }
                do { return try SQLiteStateStore(path: state) } catch {
                    throw CLIFailure(message: error.description, code: 1)
                }
            }
            let loaded = try loadConfiguration(config)
            do { return try await loaded.openStore() } catch {
                throw CLIFailure(message: error.description, code: 1)
            }
        }
    }

    struct Availability: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Availability per device or group, worst first, with a total.",
            discussion: """
                availability = online / (online + offline); unknown (never checked in) is shown apart, and \
                no data (devicewatch could not see the workspace) counts neither way. An outage is a stretch \
                offline; the mean time to recover averages those that came back online in the window.
                """)

        @OptionGroup var window: Window

        @Option(
            help: ArgumentHelp(
                "Group by device, workspace, type, platform, tag:PATTERN (a device's first tag matching it, e.g. tag:site-*) or label:NAME (tags written NAME=VALUE).",
                valueName: "GROUPING"))
        var by: String = "device"

        @Option(help: "Only this device (by id).")
        var device: String?

        @Option(help: ArgumentHelp("Mark the rows below this availability, in percent (99.5).", valueName: "PERCENT"))
        var target: Double?

        func validate() throws {
            if case .failure(let error) = HistoryGrouping.parse(by) { throw ValidationError("--by: \(error)") }
            if let target, !(target > 0 && target <= 100) {
                throw ValidationError("--target \(target) is not a percentage in (0, 100]: e.g. --target 99.5")
            }
        }

        func run() async throws {
            let grouping = try HistoryGrouping.parse(by).get()
            let store = try await window.store()
            let span = try await window.window(store)
            let history: FleetHistory
            do {
                history = try await HistoryReader(store: store).fleetHistory(
                    window: span, workspace: window.workspace, deviceID: device, now: span.end)
            } catch {
                throw CLIFailure(message: error.description, code: 1)
            }
            let report = AvailabilityReport.build(
                history, by: grouping, target: target.map { $0 / 100 }, workspace: window.workspace, deviceID: device)
            if let device, report.rows.isEmpty {
                throw CLIFailure(
                    message: "the status log has no device \(device) in this window; `devicewatch devices` lists them",
                    code: 4)
            }
            switch window.format {
            case .table: print(HistoryOutput.table(report), terminator: "")
            case .csv: print(HistoryOutput.csv(report), terminator: "")
            case .json: print(try JSONOutput.string(HistoryOutput.json(report)))
            }
        }
    }

    struct Alerts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What fired, when, for how long, who was notified, and how often it repeated.",
            discussion: """
                Who was notified comes from the outbox, which keeps sent notifications 7 days and dead ones \
                30: an older alert shows "nobody", as does one silenced or inhibited.
                """)

        @OptionGroup var window: Window

        @Option(help: "Only this rule.")
        var rule: String?

        @Option(help: "Only this device (or fleet group) id.")
        var device: String?

        @Option(help: "Only alerts still firing, or only resolved ones: firing or resolved (default: both).")
        var only: String?

        func validate() throws {
            if let only, only != "firing", only != "resolved" {
                throw ValidationError("--only \(only): give firing or resolved")
            }
        }

        func run() async throws {
            let store = try await window.store()
            let span = try await window.window(store)
            let rows: [AlertHistoryRow]
            do {
                rows = try await HistoryReader(store: store).alerts(
                    AlertHistoryQuery(
                        workspace: window.workspace, ruleID: rule, deviceID: device, since: span.start, until: span.end,
                        resolved: only.map { $0 == "resolved" }))
            } catch {
                throw CLIFailure(message: error.description, code: 1)
            }
            switch window.format {
            case .table: print(HistoryOutput.table(rows, since: span.start, until: span.end), terminator: "")
            case .csv: print(HistoryOutput.csv(rows, until: span.end), terminator: "")
            case .json: print(try JSONOutput.string(HistoryOutput.json(rows, since: span.start, until: span.end)))
            }
        }
    }
}

extension HistoryOutput.Format: ExpressibleByArgument {}
