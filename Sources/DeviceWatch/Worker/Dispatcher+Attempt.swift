import CurlHTTP
import DeviceWatchCore
import Foundation
import Logging

/// One delivery attempt: rate limit, the receiver's request, its answer read, the outcome decided.
extension Dispatcher {

    /// Sends one notification and decides what becomes of it; nil when the attempt was cancelled
    /// (shutting down), so nothing is recorded and it stays pending.
    func attempt(_ entry: OutboxEntry) async -> DeliveryRecord? {
        let intent = entry.intent
        guard let receiver = receivers[intent.receiver] else {
            return decide(.permanentFailure("receiver \"\(intent.receiver)\" is no longer configured"), entry: entry)
        }
        await waitForToken(receiver)
        if Task.isCancelled { return nil }
        // Several workers: another may have claimed it while this one waited (or was paused).
        do {
            guard try await store.confirmClaim(intent.id) else {
                logger.info(
                    "another worker claimed the notification; not sending it from here",
                    metadata: ["notification": "\(intent.id)", "receiver": "\(intent.receiver)"])
                return nil
            }
        } catch {
            outboxFailed(.readOutbox, error)
            return nil
        }
        let outcome: DeliveryOutcome
        do {
            switch try receiver.delivery(for: intent, context: context, at: clock.now()) {
            case .local(let write):
                try write()
                outcome = .delivered
            case .http(let request):
                guard let answer = await send(request, receiver: receiver) else { return nil }
                outcome = answer
            case .mail(let request):
                do {
                    _ = try await http.sendMail(request)
                    outcome = .delivered
                } catch {
                    if error.kind == .cancelled || error.kind == .shutdown || Task.isCancelled { return nil }
                    outcome = receiver.outcome(of: error)
                }
            case .httpSequence(let requests):
                var result = DeliveryOutcome.delivered
                for (index, request) in requests.enumerated() {
                    if index > 0 { await waitForToken(receiver) }
                    guard let answer = await send(request, receiver: receiver) else { return nil }
                    result = answer
                    if result != .delivered { break }
                }
                outcome = result
            }
        } catch {
            outcome = .permanentFailure("could not build the notification: \(error)")
        }
        return decide(outcome, entry: entry)
    }

    /// The receiver's reading of its answer; nil when the transfer was cancelled.
    func send(_ request: HTTPRequestSpec, receiver: any Receiver) async -> DeliveryOutcome? {
        do {
            let response = try await http.send(request)
            if let pause = receiver.pause(after: response) {
                let seconds = clock.now().timeIntervalSince1970
                withBucket(of: receiver, now: seconds) { $0.pause(until: seconds + pause) }
                reservedTokens[receiver.name] = 0
                try? await pacing?.pause(receiver: receiver.name, seconds: pause)
                logger.info(
                    "receiver asked for a pause of \(DurationText.format(seconds: pause))",
                    metadata: ["receiver": "\(receiver.name)"])
            }
            return receiver.interpret(response)
        } catch {
            if error.kind == .cancelled || error.kind == .shutdown || Task.isCancelled { return nil }
            return receiver.outcome(of: error)
        }
    }

    /// What to record for an outcome (``DeliveryPolicy``), and the log line about it.
    func decide(_ outcome: DeliveryOutcome, entry: OutboxEntry) -> DeliveryRecord {
        var random = SystemRandomNumberGenerator()
        let record = policy.decide(outcome, entry: entry, at: clock.now(), random: &random)
        let metadata: Logger.Metadata = ["notification": "\(entry.intent.id)", "receiver": "\(entry.intent.receiver)"]
        switch record.kind {
        case .sent:
            logger.debug("delivered", metadata: metadata)
        case .dead(let error):
            logger.error("notification dead-lettered: \(error)", metadata: metadata)
        case .retry(let at, let error):
            logger.warning(
                "delivery failed, retrying in \(DurationText.format(seconds: max(0, at.timeIntervalSince(clock.now())))): \(error)",
                metadata: metadata)
        }
        return record
    }

    func waitForToken(_ receiver: any Receiver) async {
        while !Task.isCancelled {
            // The cluster's bucket when workers share the receiver; this worker's own if the
            // database cannot say (it cannot record the outcome either, then).
            if let pacing {
                // Tokens taken from the cluster's bucket ahead, 50 ms worth at a time (one at a
                // time for a slow receiver): one round trip per chunk, not per request.
                if let left = reservedTokens[receiver.name], left > 0 {
                    reservedTokens[receiver.name] = left - 1
                    return
                }
                let chunk = max(1, min(receiver.rateLimit.burst, Int(receiver.rateLimit.perSecond / 20)))
                do {
                    switch try await pacing.takeTokens(receiver: receiver.name, limit: receiver.rateLimit, count: chunk)
                    {
                    case .granted(let count):
                        reservedTokens[receiver.name, default: 0] += count - 1
                        return
                    case .wait(let seconds):
                        try? await clock.sleep(.seconds(seconds) + .milliseconds(1))
                        continue
                    }
                } catch {}
            }
            let seconds = clock.now().timeIntervalSince1970
            guard let wait = withBucket(of: receiver, now: seconds, { $0.take(now: seconds) }) else { return }
            try? await clock.sleep(.seconds(wait) + .milliseconds(1))
        }
    }

    /// Acts on a receiver's token bucket, made on first use.
    func withBucket<T>(of receiver: any Receiver, now: Double, _ body: (inout TokenBucket) -> T) -> T {
        var bucket = buckets[receiver.name] ?? TokenBucket(receiver.rateLimit, now: now)
        defer { buckets[receiver.name] = bucket }
        return body(&bucket)
    }
}
