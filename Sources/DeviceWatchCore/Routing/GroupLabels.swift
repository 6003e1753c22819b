import Foundation

/// A group's labels as name/value pairs in name order.
///
/// A dictionary costs about 270 bytes for a single label, and grouping by device makes one group
/// per alert: 10,000 of them in a large outage. Encoded as a JSON object, as a dictionary was.
public struct GroupLabels: Sendable, Equatable, Codable, ExpressibleByDictionaryLiteral {
    public struct Label: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    /// In name order, each name once.
    public private(set) var labels: [Label]

    public init(_ labels: [String: String]) {
        self.labels = labels.sorted { $0.key < $1.key }.map { Label(name: $0.key, value: $0.value) }
    }

    /// - Parameter labels: already in name order, each name once.
    init(sorted labels: [Label]) {
        self.labels = labels
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public init(from decoder: any Decoder) throws {
        self.init(try [String: String](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try dictionary.encode(to: encoder)
    }

    public var dictionary: [String: String] {
        Dictionary(labels.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    public subscript(name: String) -> String? {
        labels.first { $0.name == name }?.value
    }
}
