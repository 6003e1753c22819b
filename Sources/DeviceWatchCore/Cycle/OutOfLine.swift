/// A value kept on the heap, so that what holds it holds a pointer: for fields most alerts
/// leave nil (a fleet rule's group, an acknowledgement), an optional costs 8 bytes in every
/// alert and snapshot instead of the value's whole size, in each of a large outage's 10,000.
///
/// Immutable, so copies share the storage safely; a changed value is a new `OutOfLine`.
struct OutOfLine<Value: Sendable & Equatable>: Sendable, Equatable {
    private final class Storage: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    private let storage: Storage

    init(_ value: Value) { storage = Storage(value) }

    var value: Value { storage.value }

    static func == (lhs: OutOfLine, rhs: OutOfLine) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.value == rhs.storage.value
    }
}
