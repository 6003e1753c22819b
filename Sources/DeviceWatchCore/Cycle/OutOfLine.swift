/// A value kept on the heap, so that what holds it holds a pointer: for fields most alerts
/// leave nil (a fleet rule's group, an acknowledgement), an optional costs 8 bytes in every
/// alert and snapshot instead of the value's whole size, in each of a large outage's 10,000.
///
/// A value type still: copies share the storage, and a change makes new storage.
struct OutOfLine<Value: Sendable & Equatable>: Sendable, Equatable {
    private final class Storage: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    private var storage: Storage

    init(_ value: Value) { storage = Storage(value) }

    var value: Value {
        get { storage.value }
        set { storage = Storage(newValue) }
    }

    static func == (lhs: OutOfLine, rhs: OutOfLine) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.value == rhs.storage.value
    }
}
