import Foundation

/// When a workspace is polled next: a pure decision from how the last poll went.
///
/// After a success, `poll_every` (with 10% jitter) from the start of the poll that succeeded, so
/// a slow poll delays the next rather than piling up. After a failure, never sooner than
/// `poll_every` from the failure, nor than the API's last `Retry-After`; and while failures
/// continue the wait doubles (up to `maxBackoff`, with up to 20% jitter added), so an API that
/// rate-limits or is down is not hammered by devicewatch's polls on top of its own retries.
struct PollSchedule: Sendable {
    enum Outcome: Sendable, Equatable {
        case succeeded
        /// The `consecutive`-th failure in a row (1 for the first); `retryAfter` seconds when the API said.
        case failed(consecutive: Int, retryAfter: Double?)
    }

    /// Seconds between polls.
    var pollEvery: Double
    /// The longest wait after failures (never below `pollEvery`, nor below a `Retry-After`).
    var maxBackoff: Double

    /// The backoff cap for a worker whose blind spots count after `staleAfter`: at most half of it
    /// (and 5 minutes), so a workspace that stays down is still tried, and reported, in time.
    static func maxBackoff(pollEvery: Double, staleAfter: Double) -> Double {
        max(pollEvery, min(300, staleAfter / 2))
    }

    /// Seconds to wait, from now, before the next poll; `elapsed` is how long the last poll took.
    func wait(after outcome: Outcome, elapsed: Double, random: inout some RandomNumberGenerator) -> Double {
        switch outcome {
        case .succeeded:
            let jitter = Double.random(in: -0.1...0.1, using: &random) * pollEvery
            return max(0, pollEvery + jitter - elapsed)
        case .failed(let consecutive, let retryAfter):
            let doubled = pollEvery * pow(2, Double(min(max(consecutive, 1) - 1, 30)))
            let backoff = min(max(maxBackoff, pollEvery), doubled) * Double.random(in: 1...1.2, using: &random)
            return max(pollEvery, retryAfter ?? 0, backoff)
        }
    }
}
