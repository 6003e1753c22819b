import DeviceWatchCore
import Foundation

/// A receiver's rate limit: `perSecond` tokens refill continuously up to `burst`.
struct TokenBucket: Sendable {
    let perSecond: Double
    let burst: Double
    private var tokens: Double
    private var updated: Double
    /// Nothing goes before this (the receiver asked for a pause).
    private var pausedUntil: Double = 0

    init(_ limit: Configuration.RateLimit, now: Double) {
        perSecond = limit.perSecond
        burst = Double(max(1, limit.burst))
        tokens = burst
        updated = now
    }

    /// Takes a token if one is there; else how long until one is.
    mutating func take(now: Double) -> Double? {
        if now < pausedUntil { return pausedUntil - now }
        tokens = min(burst, tokens + (now - updated) * perSecond)
        updated = now
        guard tokens < 1 else {
            tokens -= 1
            return nil
        }
        return (1 - tokens) / perSecond
    }

    /// Holds every request until `until` (a receiver's empty rate-limit bucket); tokens keep refilling.
    mutating func pause(until: Double) {
        pausedUntil = max(pausedUntil, until)
    }
}
