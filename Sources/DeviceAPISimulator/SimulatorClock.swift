import Foundation

/// The simulator's own time: `start`, running at `timeScale` times real speed, plus manual advances.
public struct SimulatorClock: Sendable {
    public let start: Date
    /// Simulated seconds per real second; 0 freezes the clock (only advances move it).
    public let timeScale: Double
    private var advanced: Double = 0

    public init(start: Date, timeScale: Double) {
        self.start = start
        self.timeScale = timeScale
    }

    /// The simulated time after `elapsed` real seconds since the simulator started.
    public func now(elapsed: Double) -> Date {
        start.addingTimeInterval(elapsed * timeScale + advanced)
    }

    public mutating func advance(by seconds: Double) {
        advanced += seconds
    }
}
