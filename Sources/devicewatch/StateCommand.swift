import ArgumentParser
import DeviceWatch
import DeviceWatchCore
import Foundation

/// `devicewatch state check`.
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "Look after the state database (alerts, silences, the notification outbox).",
        subcommands: [Check.self, Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite state into an empty PostgreSQL database, to move a worker onto PostgreSQL.",
            discussion: """
                Copies everything devicewatch remembers (alerts, what each receiver was told, first sightings, \
                workspace health, clock offsets, silences, and the notification outbox with each row's state and \
                attempts, in order) in one transaction, so the worker started on the database re-pages nothing. \
                The target must hold no devicewatch state yet (it is migrated to this version's schema first). \
                Stop the worker first: what it writes after the copy is not copied. Then set \
                "state": {"postgres": {"url_env": ...}} and start it.

                  devicewatch state migrate --from devicewatch-state.db --to-env DEVICEWATCH_DATABASE_URL
                """)

        @Option(help: "The SQLite state file to copy (it is only read).")
        var from: String

        @Option(name: .customLong("to-env"), help: "The environment variable holding the target database's URL.")
        var toEnvironment: String?

        @Option(name: .customLong("to-file"), help: "A file holding the target database's URL.")
        var toFile: String?

        /// The copy, its failure as a value (the compiler of this toolchain crashed on the same
        /// typed throws inside `run`'s do/catch).
        static func copy(from: String, url: String) async -> Result<(StateMigration.Copied, String), StateStoreError> {
            let source: SQLiteStateStore
            let target: PostgresStateStore
            do {
                source = try SQLiteStateStore(path: from)
                target = try await PostgresStateStore(url: Secret(url))
            } catch {
                return .failure(error)
            }
            defer { target.close() }
            do {
                return .success((try await StateMigration.copy(from: source, to: target), target.path))
            } catch {
                return .failure(error)
            }
        }

        func validate() throws {
            if (toEnvironment == nil) == (toFile == nil) {
                throw ValidationError("give the target's URL with exactly one of --to-env NAME or --to-file PATH")
            }
        }

        func run() async throws {
            guard FileManager.default.fileExists(atPath: from) else {
                throw CLIFailure(message: "there is no state database at \(from)", code: 1)
            }
            let url: String
            if let toEnvironment {
                guard let value = ProcessInfo.processInfo.environment[toEnvironment], !value.isEmpty else {
                    throw CLIFailure(message: "the environment variable \(toEnvironment) is not set", code: 1)
                }
                url = value
            } else {
                guard let data = FileManager.default.contents(atPath: toFile!) else {
                    throw CLIFailure(message: "cannot read \(toFile!)", code: 1)
                }
                url = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let result = await Self.copy(from: from, url: url)
            switch result {
            case .success(let (copied, path)): print("copied \(copied) from \(from) to \(path)")
            case .failure(let error): throw CLIFailure(message: error.description, code: 1)
            }
        }
    }

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
        let leases: [PostgresStateStore.WorkspaceLease]
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
            leases = try await store.leases()
        } catch let error as StateStoreError {
            throw CLIFailure(message: error.description, code: 1)
        }
        let firing = state.book.alerts.values.filter { $0.state == .firing }.count
        let live = leases.filter { $0.secondsLeft > 0 }
        let held =
            live.isEmpty
            ? "held by no worker"
            : "held: "
                + live.map {
                    "\($0.workspace) by \($0.owner) (epoch \($0.epoch), \(Int($0.secondsLeft.rounded(.up)))s left)"
                }
                .joined(separator: ", ")
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
