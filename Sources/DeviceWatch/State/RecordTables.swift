import DeviceWatchCore
import Foundation

/// The two tables of records in force until a time, silences and acknowledgements, each of
/// id, end and JSON body: a store keeps them its own way (these three calls) and the six calls
/// of the store protocol over them are written once, below.
public protocol RecordTables: StateStore {
    func insert(_ record: some TimedRecord, into table: RecordTable) async throws(StateStoreError)
    /// The records ending after `now` (every one with `includeExpired`), in no order.
    func records<T: TimedRecord>(_ type: T.Type, from table: RecordTable, includeExpired: Bool, at now: Date)
        async throws(StateStoreError) -> [T]
    /// Ends the record `id` still in force at `now`, as `ending` says; false when there is none.
    func end<T: TimedRecord>(
        _ type: T.Type, _ id: String, in table: RecordTable, at now: Date,
        _ ending: @escaping @Sendable (inout T) -> Void
    ) async throws(StateStoreError) -> Bool
}

/// The tables of ``RecordTables``: names the stores put in their SQL, never input.
public enum RecordTable: String, Sendable {
    case silences, acknowledgements
}

extension RecordTables {
    public func addSilence(_ silence: Silence) async throws(StateStoreError) {
        try await insert(silence, into: .silences)
    }

    public func silences(includeExpired: Bool, at now: Date) async throws(StateStoreError) -> [Silence] {
        try await records(Silence.self, from: .silences, includeExpired: includeExpired, at: now).sorted {
            ($0.startsAt, $0.id) < ($1.startsAt, $1.id)
        }
    }

    public func expireSilence(_ id: String, at now: Date) async throws(StateStoreError) -> Bool {
        try await end(Silence.self, id, in: .silences, at: now) { $0.endsAt = max(now, $0.startsAt) }
    }

    public func addAcknowledgement(_ acknowledgement: Acknowledgement) async throws(StateStoreError) {
        try await insert(acknowledgement, into: .acknowledgements)
    }

    public func acknowledgements(includeExpired: Bool, at now: Date) async throws(StateStoreError)
        -> [Acknowledgement]
    {
        try await records(Acknowledgement.self, from: .acknowledgements, includeExpired: includeExpired, at: now)
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func expireAcknowledgement(_ id: String, at now: Date) async throws(StateStoreError) -> Bool {
        try await end(Acknowledgement.self, id, in: .acknowledgements, at: now) { $0.endsAt = now }
    }
}
