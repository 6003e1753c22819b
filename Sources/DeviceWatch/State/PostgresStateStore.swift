import DeviceWatchCore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The state store in PostgreSQL, for several workers on one database; migrated by version at
/// open, like the SQLite store, and held to the same contract (`StoreContractTests`).
///
/// Works through PgBouncer in transaction mode: every statement runs in its own transaction or
/// in a commit's, with no session state (no session advisory locks, no temporary tables, no
/// `SET`), and the migration lock is a transaction-level advisory lock.
public final class PostgresStateStore: StateStore {
    /// `postgres://HOST:PORT/DATABASE`, never with the user or password: what errors name.
    public let path: String
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    /// How long one call may wait for the database (a connection, a lock, an answer).
    let timeout: Duration
    /// Set when this worker delivers as one of several (``claimOutbox(as:for:)``): due rows are
    /// claimed for it, and outcomes recorded only for rows it still holds.
    let claimant = Mutex<Claimant?>(nil)
    /// Outcomes not recorded because another worker had claimed the row meanwhile (this worker
    /// was paused or cut off past its claim): each a notification that may have gone twice.
    let lostClaims = Atomic<Int>(0)
    /// When each row this worker holds was claimed (or its claim last confirmed), on the
    /// continuous clock: ``confirmClaim(_:)`` needs no round trip while a claim is fresh.
    let claimTimes = Mutex<[String: ContinuousClock.Instant]>([:])
    /// Told how many rows each claim took and how many outcomes were lost to another's claim.
    let claimEvents = Mutex<(@Sendable (_ claimed: Int, _ lost: Int) -> Void)?>(nil)

    /// Reports outbox claims (for the worker's metrics).
    public func onClaims(_ report: @escaping @Sendable (_ claimed: Int, _ lost: Int) -> Void) {
        claimEvents.withLock { $0 = report }
    }

    /// Connects, migrates, and refuses a database a newer devicewatch wrote.
    /// - Parameters:
    ///   - url: the connection URL (a secret: it holds the password).
    ///   - migrate: false to write nothing: a database without devicewatch's schema, or with an
    ///     older one, is refused instead of migrated (for `state check`).
    public init(
        url: Secret, timeout: Duration = .seconds(10), migrate: Bool = true,
        logger: Logger = Logger(label: "devicewatch.store")
    ) async throws(StateStoreError) {
        let parsed: PostgresURL
        do {
            parsed = try PostgresURL(url.exposedValue)
        } catch {
            throw StateStoreError(kind: .unavailable, path: "postgres", detail: error.description)
        }
        path = parsed.redacted
        self.logger = logger
        self.timeout = timeout
        var quiet = logger
        quiet.logLevel = .critical  // the client's own lines can quote connection details
        let client = PostgresClient(configuration: parsed.configuration, backgroundLogger: quiet)
        self.client = client
        // Detached: a task made here would inherit the worker's graceful-shutdown signal (a task
        // local), and PostgresClient.run() closes the pool on it, before the dispatcher's drain
        // and the lease's release have used it. The store closes it (``close()``, deinit).
        runner = Task.detached { await client.run() }
        do {
            // One connection alone first: a wrong password or an unknown database is reported as
            // the server says it, where the pool would only retry until the timeout.
            let probe = parsed.probe
            let probeLogger = quiet
            try await call { _ in
                let connection = try await PostgresConnection.connect(configuration: probe, id: 0, logger: probeLogger)
                try? await connection.close()
            }
            if migrate { try await self.migrate() } else { try await checkSchema() }
        } catch {
            runner.cancel()
            throw error
        }
    }

    deinit { runner.cancel() }

    /// Closes the connections (the store is not used afterwards).
    public func close() { runner.cancel() }

    // MARK: Calls

    /// Runs `body` in one transaction, within ``timeout``.
    @discardableResult
    func transaction<T: Sendable>(
        timeout: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    )
        async throws(StateStoreError) -> T
    {
        let logger = logger
        return try await call(timeout: timeout) { client in
            try await client.withTransaction(logger: logger) { try await body($0) }
        }
    }

    /// Runs `body` with a connection from the pool (each statement its own transaction), within ``timeout``.
    @discardableResult
    /// - Parameter timeout: the store's own when nil.
    func connection<T: Sendable>(
        timeout: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(StateStoreError) -> T {
        try await call(timeout: timeout) { client in try await client.withConnection { try await body($0) } }
    }

    private func call<T: Sendable>(
        timeout: Duration? = nil, _ body: @escaping @Sendable (PostgresClient) async throws -> T
    )
        async throws(StateStoreError) -> T
    {
        let client = client
        let timeout = timeout ?? self.timeout
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body(client) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else { throw TimedOut(after: timeout) }
                return value
            }
        } catch {
            throw classify(error)
        }
    }

    private struct TimedOut: Error {
        /// The call's own timeout, which may be shorter than the store's (a lease round's).
        var after: Duration
    }

    /// What went wrong, in words that never include the password or the statement's values.
    func classify(_ error: any Error) -> StateStoreError {
        if let error = error as? StateStoreError { return error }
        if let error = error as? PostgresTransactionError {
            // The first of what failed: BEGIN, the work, or COMMIT.
            if let inner = error.beginError ?? error.closureError ?? error.commitError { return classify(inner) }
        }
        if let error = error as? TimedOut {
            return StateStoreError(
                kind: .unavailable, path: path,
                detail: "no answer within \(DurationText.format(error.after))")
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState] ?? ""
                // 28xxx: authentication; 3D000: no such database; 42501: not permitted.
                let kind: StateStoreError.Kind =
                    state.hasPrefix("28") || state == "3D000" || state == "42501" || state.hasPrefix("53")
                    ? .unavailable : .other
                return StateStoreError(kind: kind, path: path, detail: "\(message) (SQLSTATE \(state))")
            }
            return StateStoreError(kind: .unavailable, path: path, detail: "cannot reach the server (\(error.code))")
        }
        if error is CancellationError {
            return StateStoreError(kind: .unavailable, path: path, detail: "cancelled")
        }
        return StateStoreError(kind: .other, path: path, detail: "\(type(of: error))")
    }
}
