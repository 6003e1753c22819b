import Foundation

/// The worker's clocks, in one place, injected so tests drive time instead of waiting for it.
///
/// Three time bases meet in devicewatch:
/// - the **API's clock** (the Devices API's `Date` header): alert decisions, silences, health
///   times. The engine keeps it as the local clock plus the latest offset it measured
///   (``Engine/now``, ``EngineClock``).
/// - the **local wall clock** (`now`): the outbox's times (when a notification is due, when it
///   was recorded), signatures, the state store's clock offsets.
/// - the **monotonic clock** (`sleep`, and `Duration`s measured with `ContinuousClock`): waits,
///   rate limits, timeouts; never compared with either wall clock.
public struct WorkerClock: Sendable {
    /// The local wall clock.
    public var now: @Sendable () -> Date
    /// Waits on the monotonic clock; throws when cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// The real clocks.
    public static let system = WorkerClock(now: Date.init, sleep: { try await Task.sleep(for: $0) })
}
