import ArgumentParser
import DeviceWatch
import DeviceWatchCore
import Foundation

/// `devicewatch state check`.
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "Look after the state database (alerts, silences, the notification outbox).",
        subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the state database for damage (SQLite's integrity_check); safe while the worker runs.",
            discussion: """
                Opens the configured state database without creating it, runs SQLite's integrity_check over every \
                page and index (the worker runs the quicker quick_check each time it starts), and prints what it \
                holds. Exit 0 when the database is sound, 1 when it is damaged or cannot be opened: restore a \
                backup (`sqlite3 STATE.db ".backup copy.db"` makes one live), or move it away to start with no \
                alert history. On PostgreSQL: checks that the server answers, that the schema is this version's \
                (never migrating it), that every alert, group and silence reads back, and says which worker holds \
                the database.
                """)

        @Option(help: "The configuration file (its state store is checked).")
        var config: String = "devicewatch.json"

        func run() async throws {
            let loaded = try loadConfiguration(config)
            guard case .sqlite(let relative) = loaded.configuration.state else {
                return try await checkPostgres(loaded)
            }
            let path = loaded.resolve(relative)
            guard FileManager.default.fileExists(atPath: path) else {
                throw CLIFailure(
                    message: "there is no state database at \(path) yet (the worker creates it at its first start)",
                    code: 1)
            }
            let store: SQLiteStateStore
            do {
                store = try SQLiteStateStore(path: path)
            } catch {
                throw CLIFailure(message: error.description, code: 1)
            }
            let problems: [String]
            let counts: [OutboxEntry.State: Int]
            let state: PersistedState
            do {
                problems = try await store.integrityCheck()
                counts = try await store.outboxCounts()
                state = try await store.load()
            } catch {
                throw CLIFailure(message: error.description, code: 1)
            }
            guard problems == ["ok"] else {
                throw CLIFailure(
                    message: "the state database \(path) is damaged (integrity_check):\n"
                        + problems.map { "  \($0)" }.joined(separator: "\n")
                        + "\nrestore it from a backup, or move it away to start with no alert history", code: 1)
            }
            let firing = state.book.alerts.values.filter { $0.state == .firing }.count
            print(
                "\(path): ok (integrity_check): \(state.book.alerts.count) alerts (\(firing) firing), \(state.silences.count) silences, "
                    + "\(counts[.pending] ?? 0) notifications pending, \(counts[.dead] ?? 0) dead-lettered")
        }
    }
}

extension StateCommand.Check {
    /// PostgreSQL keeps its own pages sound; this checks what devicewatch relies on: the server
    /// answers, the schema is this version's, and every alert, group and silence reads back.
    func checkPostgres(_ loaded: LoadedConfiguration) async throws {
        guard case .postgres(let reference, _) = loaded.configuration.state else { return }
        let store: PostgresStateStore
        let counts: [OutboxEntry.State: Int]
        let state: PersistedState
        let holder: (owner: String, secondsLeft: Double)?
        do {
            let url: Secret
            do {
                url = try loaded.secret(reference)
            } catch {
                throw CLIFailure(message: "the connection URL cannot be read from the \(reference): \(error)", code: 1)
            }
            store = try await PostgresStateStore(url: url, migrate: false)
            defer { store.close() }
            counts = try await store.outboxCounts()
            state = try await store.load()
            holder = try await store.leaseHolder()
        } catch let error as StateStoreError {
            throw CLIFailure(message: error.description, code: 1)
        }
        let firing = state.book.alerts.values.filter { $0.state == .firing }.count
        let held =
            holder.map { "held by \($0.owner) (lease \(Int($0.secondsLeft.rounded(.up)))s)" } ?? "held by no worker"
        print(
            "\(store.path): ok (schema, every alert, group and silence read back): \(state.book.alerts.count) alerts "
                + "(\(firing) firing), \(state.silences.count) silences, \(counts[.pending] ?? 0) notifications pending, "
                + "\(counts[.dead] ?? 0) dead-lettered; \(held)")
    }
}

/// Loads the configuration for a command, or says what to run to see its problems.
func loadConfiguration(_ path: String) throws -> LoadedConfiguration {
    do {
        return try ConfigurationLoader.load(configPath: path)
    } catch {
        throw CLIFailure(
            message: "the configuration has problems; run `devicewatch check --config \(path)`:\n\(error)", code: 1)
    }
}
