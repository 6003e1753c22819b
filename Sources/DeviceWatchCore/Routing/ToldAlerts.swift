import Foundation

/// The alerts a receiver was told are firing, as a sorted array searched by bisection.
///
/// A set's hash table costs about 170 bytes for a single alert, and grouping by device makes one
/// group per alert: 10,000 of them in a large outage. Encoded as a JSON array, as a set was.
public struct ToldAlerts: Sendable, Equatable, Codable, Sequence, ExpressibleByArrayLiteral {
    /// Sorted, without repeats.
    public private(set) var keys: [AlertKey]

    public init(_ keys: some Sequence<AlertKey>) {
        var sorted = keys.sorted()
        var kept = 0
        for key in sorted where kept == 0 || sorted[kept - 1] != key {
            sorted[kept] = key
            kept += 1
        }
        sorted.removeLast(sorted.count - kept)
        self.keys = sorted
    }

    public init(arrayLiteral keys: AlertKey...) {
        self.init(keys)
    }

    public init(from decoder: any Decoder) throws {
        self.init(try [AlertKey](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try keys.encode(to: encoder)
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    public func contains(_ key: AlertKey) -> Bool {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low < keys.count && keys[low] == key
    }

    public mutating func subtract(_ gone: some Sequence<AlertKey>) {
        let gone = Set(gone)
        keys.removeAll { gone.contains($0) }
    }

    public func makeIterator() -> IndexingIterator<[AlertKey]> { keys.makeIterator() }
}
