import ArgumentParser
import DeviceWatch
import DeviceWatchCore
import Foundation

/// `devicewatch ack FINGERPRINT|--group KEY`, `--list`, `--end ID`.
struct AckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack",
        abstract: "Acknowledge an alert or a group: no repeats and no escalation while you are on it.",
        discussion: """
            An acknowledgement holds until the alert resolves, until --for runs out (at most 30 days), or, for \
            a group, until another alert joins it (the newcomer is news: told, repeated and escalated as \
            usual). Resolves are still sent. The next notification, the status page and /api/v1/alerts say \
            who acknowledged and when. Safe while the worker runs: it takes effect at its next cycle.
              devicewatch ack 3f2a9c0d1e2b4a5f --for 4h --comment "on it"
              devicewatch ack --group '{rule="site-down",workspace="acme"}' --comment "driving to site B"
              devicewatch ack --list
              devicewatch ack --end 5d1c0a9b8e7f
            Fingerprints are in notifications, `devicewatch status`-style listings (/api/v1/alerts) and on \
            the status page; group keys in notifications (the webhook's groupKey) and /api/v1/alerts.
            """)

    @Argument(help: "The alert's fingerprint.")
    var fingerprint: String?

    @Option(
        help: "Acknowledge a notification group by its key instead (every firing alert its receivers were told of).")
    var group: String?

    @Option(name: .customLong("for"), help: "Hold for at most this long, e.g. 4h (default: until it resolves).")
    var duration: String?

    @Option(help: "What you are doing about it: shown with the acknowledgement.")
    var comment: String = ""

    @Option(help: "Who (default: $USER).")
    var author: String?

    @Flag(help: "List the acknowledgements in force.")
    var list = false

    @Option(help: "End an acknowledgement now, by its id.")
    var end: String?

    @OptionGroup var store: SilenceCommand.StoreOptions

    func validate() throws {
        let modes = [fingerprint != nil, group != nil, list, end != nil].filter { $0 }.count
        guard modes == 1 else {
            throw ValidationError("give one of: a FINGERPRINT, --group KEY, --list or --end ID")
        }
    }

    func run() async throws {
        let store = try await store.store()
        let now = try await SilenceCommand.clock(store).now(local: Date())
        do {
            if list { return try await printList(store, now: now) }
            if let end {
                guard try await store.expireAcknowledgement(end, at: now) else {
                    throw CLIFailure(message: "no acknowledgement \(end) is in force (devicewatch ack --list)", code: 4)
                }
                print("ended \(end)")
                return
            }
            let state = try await store.load()
            let target: Acknowledgement.Request.Target =
                group.map { .group(key: $0) } ?? .alert(fingerprint: fingerprint ?? "")
            let request = Acknowledgement.Request(
                target: target, author: author ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown",
                comment: comment, duration: duration)
            switch request.acknowledgement(
                id: Silence.newID(), alerts: state.book.alerts, groups: Array(state.routing.groups.values), at: now)
            {
            case .success(let acknowledgement):
                try await store.addAcknowledgement(acknowledgement)
                print(acknowledgement.id)
            case .failure(let error):
                throw CLIFailure(message: error.description, code: 4)
            }
        } catch let error as StateStoreError {
            throw CLIFailure(message: error.description, code: 1)
        }
    }

    private func printList(_ store: any StateStore, now: Date) async throws {
        let acknowledgements = try await store.acknowledgements(includeExpired: false, at: now)
        guard !acknowledgements.isEmpty else {
            print("no acknowledgements in force")
            return
        }
        var rows = [["ID", "ALERTS", "GROUP", "AUTHOR", "SINCE", "LEFT", "COMMENT"]]
        for acknowledgement in acknowledgements {
            rows.append([
                acknowledgement.id, acknowledgement.alerts.keys.sorted().joined(separator: ","),
                acknowledgement.groupKey ?? "-", acknowledgement.author, Timestamp.format(acknowledgement.createdAt),
                DurationText.format(seconds: acknowledgement.endsAt.timeIntervalSince(now)), acknowledgement.comment,
            ])
        }
        printColumns(rows)
    }
}
