import CurlHTTP
import DeviceWatchCore
import Foundation
import Logging

/// Delivers the outbox: concurrently across receivers and groups, in order within a group (a
/// resolve never overtakes its firing), rate-limited per receiver, retried with exponential backoff
/// and full jitter (honouring `Retry-After`), dead-lettered after `maxRetryAge`.
public actor Dispatcher {
    public struct Settings: Sendable {
        /// An undelivered notification older than this is dead-lettered.
        public var maxRetryAge: Double = 86_400
        public var baseBackoff: Double = 1
        public var maxBackoff: Double = 300
        /// Pending notifications read per pass.
        public var batch: Int = 5000

        public init() {}
    }

    private let store: any StateStore
    private let http: CurlHTTPClient
    private var receivers: [String: any Receiver]
    private var context: RenderContext
    private let settings: Settings
    private let logger: Logger
    private var buckets: [String: TokenBucket] = [:]
    private var wakeups: AsyncStream<Void>.Continuation?

    public init(
        store: any StateStore, http: CurlHTTPClient, receivers: [String: any Receiver], context: RenderContext,
        settings: Settings = Settings(), logger: Logger = Logger(label: "devicewatch.dispatcher")
    ) {
        self.store = store
        self.http = http
        self.receivers = receivers
        self.context = context
        self.settings = settings
        self.logger = logger
    }

    /// New receivers or rules after a reload.
    public func update(receivers: [String: any Receiver], context: RenderContext) {
        self.receivers = receivers
        self.context = context
    }

    /// Asks the delivery loop to look at the outbox now.
    public func wake() {
        wakeups?.yield()
    }

    /// Delivers until cancelled: after every wake-up, and at least every second for retries.
    public func run() async {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeups = continuation
        defer { continuation.finish() }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                continuation.yield()
            }
        }
        defer { ticker.cancel() }
        for await _ in stream {
            if Task.isCancelled { break }
            _ = await deliverDue()
        }
    }

    /// One pass over the outbox. Returns how many notifications were delivered.
    @discardableResult
    public func deliverDue(now: Date = Date()) async -> Int {
        let pending: [OutboxEntry]
        do {
            pending = try store.dueNotifications(at: .distantFuture, limit: settings.batch)
        } catch {
            logger.error("cannot read the outbox: \(error)")
            return 0
        }
        // Per (receiver, group), in order: the due prefix, stopping at the first one not yet due.
        var queues: [String: [OutboxEntry]] = [:]
        var blocked: Set<String> = []
        for entry in pending {
            let group = entry.intent.receiver + "\u{0}" + entry.intent.groupKey
            guard !blocked.contains(group) else { continue }
            if entry.nextAttemptAt > now {
                blocked.insert(group)
                continue
            }
            queues[group, default: []].append(entry)
        }
        return await withTaskGroup(of: Int.self) { tasks in
            for queue in queues.values {
                tasks.addTask { await self.deliver(queue) }
            }
            var total = 0
            for await count in tasks { total += count }
            return total
        }
    }

    /// Delivers one group's due notifications in order; stops at the first that must wait.
    private func deliver(_ queue: [OutboxEntry]) async -> Int {
        var delivered = 0
        for entry in queue {
            guard await deliverOne(entry) else { break }
            delivered += 1
        }
        return delivered
    }

    private func deliverOne(_ entry: OutboxEntry) async -> Bool {
        let intent = entry.intent
        guard let receiver = receivers[intent.receiver] else {
            record(intent.id, .permanentFailure("receiver \"\(intent.receiver)\" is no longer configured"), entry: entry)
            return true
        }
        await waitForToken(receiver)
        let now = Date()
        let outcome: DeliveryOutcome
        do {
            switch try receiver.delivery(for: intent, context: context, at: now) {
            case .local(let write):
                try write()
                outcome = .delivered
            case .http(let request):
                outcome = await send(request, receiver: receiver)
            case .httpSequence(let requests):
                var result = DeliveryOutcome.delivered
                for (index, request) in requests.enumerated() {
                    if index > 0 { await waitForToken(receiver) }
                    result = await send(request, receiver: receiver)
                    if result != .delivered { break }
                }
                outcome = result
            }
        } catch {
            outcome = .permanentFailure("could not build the notification: \(error)")
        }
        if outcome == .delivered { CrashPoint.afterDelivery.hit() }
        return record(intent.id, outcome, entry: entry)
    }

    private func send(_ request: HTTPRequestSpec, receiver: any Receiver) async -> DeliveryOutcome {
        do {
            return receiver.interpret(try await http.send(request))
        } catch {
            // The kind and libcurl's detail only: a webhook URL's path can be its secret.
            let reason = receiver.scrub("\(error.kind.rawValue): \(error.detail)")
            return error.isRetryable ? .retry(reason: reason, after: nil) : .permanentFailure(reason)
        }
    }

    /// Writes the outcome; true when the next notification of the group may go.
    @discardableResult
    private func record(_ id: String, _ outcome: DeliveryOutcome, entry: OutboxEntry) -> Bool {
        let now = Date()
        do {
            switch outcome {
            case .delivered:
                try store.markSent(id, at: now)
                logger.debug("delivered", metadata: ["notification": "\(id)", "receiver": "\(entry.intent.receiver)"])
                return true
            case .permanentFailure(let reason):
                try store.markDead(id, error: reason, at: now)
                logger.error("notification dead-lettered: \(reason)", metadata: ["notification": "\(id)", "receiver": "\(entry.intent.receiver)"])
                return true
            case .retry(let reason, let after):
                if now.timeIntervalSince(entry.createdAt) >= settings.maxRetryAge {
                    try store.markDead(id, error: "gave up after \(entry.attempts + 1) attempts: \(reason)", at: now)
                    logger.error("notification dead-lettered after retries: \(reason)", metadata: ["notification": "\(id)"])
                    return true
                }
                let cap = min(settings.maxBackoff, settings.baseBackoff * pow(2, Double(min(entry.attempts, 30))))
                let wait = after.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? Double.random(in: 0...cap)
                try store.markFailedAttempt(id, error: reason, retryAt: now.addingTimeInterval(wait), at: now)
                logger.warning("delivery failed, retrying in \(DurationText.format(seconds: wait)): \(reason)",
                    metadata: ["notification": "\(id)", "receiver": "\(entry.intent.receiver)"])
                return false
            }
        } catch {
            logger.error("cannot record a delivery outcome: \(error)")
            return false
        }
    }

    private func waitForToken(_ receiver: any Receiver) async {
        while true {
            let seconds = Date().timeIntervalSince1970
            var bucket = buckets[receiver.name] ?? TokenBucket(receiver.rateLimit, now: seconds)
            let wait = bucket.take(now: seconds)
            buckets[receiver.name] = bucket
            guard let wait else { return }
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000) + 1))
        }
    }
}
