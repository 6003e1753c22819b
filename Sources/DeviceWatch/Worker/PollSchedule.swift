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
        /// The `consecutive`-th failure in a row (1 for the first); `retryAfter` when the API said.
        case failed(consecutive: Int, retryAfter: Duration?)
    }

    /// The time between polls.
    var pollEvery: Duration
    /// The longest wait after failures (never below `pollEvery`, nor below a `Retry-After`).
    var maxBackoff: Duration

    /// The backoff cap for a worker whose blind spots count after `staleAfter`: at most half of it
    /// (and 5 minutes), so a workspace that stays down is still tried, and reported, in time.
    static func maxBackoff(pollEvery: Duration, staleAfter: Duration) -> Duration {
        max(pollEvery, min(.minutes(5), staleAfter / 2))
    }

    /// How long to wait, from now, before the next poll; `elapsed` is how long the last poll took.
    func wait(after outcome: Outcome, elapsed: Duration, random: inout some RandomNumberGenerator) -> Duration {
        switch outcome {
        case .succeeded:
            let jitter = pollEvery * Double.random(in: -0.1...0.1, using: &random)
            return max(.zero, pollEvery + jitter - elapsed)
        case .failed(let consecutive, let retryAfter):
            let doubled = pollEvery * (1 << min(max(consecutive, 1) - 1, 30))
            let backoff = min(max(maxBackoff, pollEvery), doubled) * Double.random(in: 1...1.2, using: &random)
            return max(pollEvery, retryAfter ?? .zero, backoff)
        }
    }
}
