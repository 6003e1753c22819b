import DeviceWatchCore
import Foundation

/// What becomes of a notification after one delivery attempt: sent, retried later, or given up
/// on. Pure: the answer, the outbox entry, the time and a random source in; the record out.
struct DeliveryPolicy: Sendable {
    /// An undelivered notification older than this (seconds since it entered the outbox) is dead-lettered.
    var maxRetryAge: Duration
    /// Backoff between attempts: exponential with full jitter, or the receiver's `Retry-After`.
    var backoff: RetryPolicy

    func decide(_ outcome: DeliveryOutcome, entry: OutboxEntry, at now: Date, random: inout some RandomNumberGenerator)
        -> DeliveryRecord
    {
        let id = entry.intent.id
        switch outcome {
        case .delivered:
            return DeliveryRecord(id: id, kind: .sent)
        case .permanentFailure(let reason):
            return DeliveryRecord(id: id, kind: .dead(error: reason))
        case .retry(let reason, let after):
            if now.duration(since: entry.createdAt) >= maxRetryAge {
                return DeliveryRecord(
                    id: id, kind: .dead(error: "gave up after \(entry.attempts + 1) attempts: \(reason)"))
            }
            let wait = backoff.delay(beforeRetry: entry.attempts + 1, retryAfter: after, random: &random)
            return DeliveryRecord(id: id, kind: .retry(at: now + wait, error: reason))
        }
    }
}
