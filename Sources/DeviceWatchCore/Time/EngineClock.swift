import Foundation

/// Where the API's clock stood against the local one at a workspace's latest poll.
public struct ClockOffset: Sendable, Equatable {
    public var workspace: String
    /// The API's clock minus the local one.
    public var offset: Duration
    /// When it was measured, on the local clock.
    public var measuredAt: Date

    public init(workspace: String, offset: Duration, measuredAt: Date) {
        self.workspace = workspace
        self.offset = offset
        self.measuredAt = measuredAt
    }

    /// Offsets closer than this are the same: the store is written only when one moves further
    /// (clock drift and network latency move it by milliseconds from poll to poll).
    public static let tolerance: Duration = .seconds(1)
}

/// The engine's clock, for whoever stands outside the engine: the API's clock (the list
/// response's `Date` header), as measured at the latest poll, carried forward by the local clock.
///
/// The engine judges alerts on the API's clock; silences, their remaining time and anything else
/// compared with the engine's decisions must be on the same clock, or a host whose clock is days
/// off the API's would add silences that start days late or end days early.
public struct EngineClock: Sendable, Equatable {
    public var offsets: [String: ClockOffset]

    public init(_ offsets: [ClockOffset] = []) {
        self.offsets = Dictionary(
            offsets.map { ($0.workspace, $0) }, uniquingKeysWith: { $0.measuredAt > $1.measuredAt ? $0 : $1 })
    }

    /// The engine's time when the local clock reads `local`: by `workspace`'s latest offset, or
    /// the most recently measured one when that workspace has none; the local clock before any poll.
    public func now(local: Date, workspace: String? = nil) -> Date {
        let offset = workspace.flatMap { offsets[$0] } ?? offsets.values.max { $0.measuredAt < $1.measuredAt }
        return local + (offset?.offset ?? .zero)
    }

    /// The engine's time for a silence: on the clock of the workspace its matchers name exactly, if one.
    public func now(local: Date, for matchers: [Silence.Matcher]) -> Date {
        let workspace = matchers.first {
            $0.name == "workspace" && !$0.pattern.contains("*") && !$0.pattern.contains("?")
        }?.pattern
        return now(local: local, workspace: workspace)
    }
}
