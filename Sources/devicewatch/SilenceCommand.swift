import ArgumentParser
import DeviceWatch
import DeviceWatchCore
import Foundation

/// `devicewatch silence add|list|expire`.
struct SilenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Mute matching alerts for a while: they are tracked, not sent.",
        discussion: """
            Silences live in the configured state store and take effect at the worker's next cycle (safe \
            while it runs). They are on the engine's clock, the API's (its Date header, as of the worker's \
            latest poll), like every alert decision: a host clock that is off does not move them. A receiver \
            told that an alert fired is still told when it resolves, silence or not.
            """,
        subcommands: [Add.self, List.self, Expire.self])

    struct StoreOptions: ParsableArguments {
        @Option(help: "The configuration file (its state store holds the silences).")
        var config: String = "devicewatch.json"

        func store() async throws -> any StateStore {
            let loaded = try loadConfiguration(config)
            do {
                return try await loaded.openStore()
            } catch {
                throw CLIFailure(message: error.description, code: 1)
            }
        }
    }

    /// The engine's clock as the worker last wrote it to the store.
    static func clock(_ store: any StateStore) async throws -> EngineClock {
        do {
            return await EngineClock(try store.clockOffsets())
        } catch {
            throw CLIFailure(message: error.description, code: 1)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a silence and print its id.",
            discussion: """
                Matchers: rule, workspace, device, tag, severity or label:NAME, each =PATTERN (exact or a \
                glob with * and ?). Every matcher must hold. Example:
                  devicewatch silence add --matcher rule=production-offline --matcher tag=site-a \\
                    --duration 2h --comment "planned maintenance"
                With --during NAME the silence mutes only while that time interval holds, e.g. every \
                night's reboot window for the next 30 days:
                  devicewatch silence add --matcher tag=site-b --duration 30d --during nightly-reboots \\
                    --comment "site B reboots nightly this month"
                """)

        @OptionGroup var store: StoreOptions

        @Option(name: .customLong("matcher"), help: "NAME=PATTERN; repeat for several (all must match).")
        var matchers: [String]

        @Option(help: "How long the silence lasts, e.g. 2h, from its start on the engine's clock (the API's).")
        var duration: String

        @Option(help: "Why: shown wherever the silence is listed.")
        var comment: String

        @Option(help: "Who (default: $USER).")
        var author: String?

        @Option(help: "When it starts (ISO-8601, an absolute time; default: now on the engine's clock).")
        var starts: String?

        @Option(
            name: .customLong("during"),
            help: "Mute only while this time interval (the configuration's time_intervals) holds; repeat for several.")
        var during: [String] = []

        var request: Silence.Request {
            Silence.Request(
                matchers: matchers, duration: duration, comment: comment,
                author: author ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown", startsAt: starts,
                during: during)
        }

        func validate() throws {
            if let problem = request.problems.first { throw ValidationError(problem) }
        }

        func run() async throws {
            let options = self.store
            let store = try await options.store()
            let now = try await SilenceCommand.clock(store).now(
                local: Date(), for: request.matchers.compactMap { try? Silence.Matcher.parse($0).get() })
            let silence: Silence
            var request = request
            if !during.isEmpty {
                request.knownTimeIntervals = Set(
                    try loadConfiguration(options.config).configuration.defaults.timeIntervals.named.keys)
            }
            switch request.silence(id: Silence.newID(), now: now) {
            case .success(let made): silence = made
            case .failure(let error): throw ValidationError(error.description)
            }
            do {
                try await store.addSilence(silence)
            } catch {
                throw CLIFailure(message: error.description, code: 1)
            }
            print(silence.id)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "List active and future silences (--all: expired ones too), with the time left on the engine's clock.")

        @OptionGroup var store: StoreOptions

        @Flag(help: "Include expired silences.")
        var all = false

        func run() async throws {
            let store = try await store.store()
            let now = try await SilenceCommand.clock(store).now(local: Date())
            let silences: [Silence]
            do {
                silences = try await store.silences(includeExpired: all, at: now)
            } catch {
                throw CLIFailure(message: error.description, code: 1)
            }
            guard !silences.isEmpty else {
                print(all ? "no silences" : "no active or future silences")
                return
            }
            var rows = [["ID", "STATE", "STARTS", "ENDS", "LEFT", "MATCHERS", "AUTHOR", "COMMENT"]]
            for silence in silences {
                let state = silence.isActive(at: now) ? "active" : (silence.startsAt > now ? "future" : "expired")
                let left =
                    silence.endsAt > now ? DurationText.format(seconds: silence.endsAt.timeIntervalSince(now)) : "-"
                rows.append([
                    silence.id, state, Timestamp.format(silence.startsAt), Timestamp.format(silence.endsAt), left,
                    silence.matchers.map(\.description).joined(separator: " ")
                        + (silence.during.map { " during " + $0.joined(separator: ",") } ?? ""), silence.author,
                    silence.comment,
                ])
            }
            printColumns(rows)
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a silence now.")

        @OptionGroup var store: StoreOptions

        @Argument(help: "The silence id (from `silence add` or `silence list`).")
        var id: String

        func run() async throws {
            let store = try await store.store()
            let now = try await SilenceCommand.clock(store).now(local: Date())
            let expired: Bool
            do {
                expired = try await store.expireSilence(id, at: now)
            } catch {
                throw CLIFailure(message: error.description, code: 1)
            }
            guard expired else {
                throw CLIFailure(
                    message: "no active or future silence has id \(id); see `devicewatch silence list`", code: 4)
            }
            print("expired \(id)")
        }
    }
}

/// Rows as aligned columns, the last one left ragged (it holds free text).
func printColumns(_ rows: [[String]]) {
    let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
    for row in rows {
        print(
            zip(row, widths).enumerated().map { index, cell in
                index == row.count - 1 ? cell.0 : cell.0.padding(toLength: cell.1, withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
    }
}
