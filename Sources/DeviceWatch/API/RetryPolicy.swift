import Foundation

/// Exponential backoff with full jitter, bounded in attempts and total time.
public struct RetryPolicy: Sendable {
    /// Most attempts in all, the first included.
    public var maxAttempts: Int
    /// The backoff cap before the first retry; it doubles after each attempt.
    public var baseDelay: Duration
    /// The largest backoff cap.
    public var maxDelay: Duration
    /// No retry starts once this much time would have passed since the first attempt.
    public var maxTotal: Duration

    public init(
        maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(30),
        maxTotal: Duration = .seconds(120)
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxTotal = maxTotal
    }

    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The wait before retry number `attempt` (1 for the first retry): uniformly random in
    /// `[0, min(maxDelay, baseDelay * 2^(attempt-1))]`, or the server's `Retry-After` when it gave one.
    public func delay(beforeRetry attempt: Int, retryAfter: Duration?, random: inout some RandomNumberGenerator)
        -> Duration
    {
        if let retryAfter { return retryAfter }
        let cap = min(maxDelay, baseDelay * Int(1 << min(attempt - 1, 30)))
        return .seconds(Double.random(in: 0...max(cap.timeInterval, 0), using: &random))
    }
}
