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
        public var batch: Int = 256
        /// Groups of one receiver delivered at once (libcurl keeps at most 16 connections per host).
        public var inFlightPerReceiver: Int = 16
        /// Outcomes written to the store in one transaction.
        public var recordEvery: Int = 256
        /// Delivered notifications are kept this long (for `notifications list` and the status page), then deleted.
        public var keepSent: Double = 7 * 86_400
        /// Dead letters are kept this long, then deleted.
        public var keepDead: Double = 30 * 86_400

        public init() {}
    }

    private let store: any StateStore
    private let http: CurlHTTPClient
    private var receivers: [String: any Receiver]
    private var context: RenderContext
    private let settings: Settings
    private let logger: Logger
    private let metrics: WorkerMetrics?
    private var buckets: [String: TokenBucket] = [:]
    private var wakeups: AsyncStream<Void>.Continuation?

    public init(
        store: any StateStore, http: CurlHTTPClient, receivers: [String: any Receiver], context: RenderContext,
        settings: Settings = Settings(), metrics: WorkerMetrics? = nil, logger: Logger = Logger(label: "devicewatch.dispatcher")
    ) {
        self.metrics = metrics
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
        var pruned = Date.distantPast
        for await _ in stream {
            if Task.isCancelled { break }
            _ = await deliverDue()
            if Date().timeIntervalSince(pruned) >= 3600 {
                prune(now: Date())
                pruned = Date()
            }
        }
    }

    /// Deletes what is long done: sent notifications after `keepSent`, dead letters after `keepDead`.
    public func prune(now: Date) {
        do {
            let count = try store.prune(sentBefore: now.addingTimeInterval(-settings.keepSent), deadBefore: now.addingTimeInterval(-settings.keepDead))
            if count > 0 { logger.info("pruned \(count) delivered or dead notifications from the outbox") }
        } catch {
            logger.error("cannot prune the outbox: \(error)")
        }
    }

    /// Delivers everything due, a batch at a time. Returns how many notifications were delivered.
    @discardableResult
    public func deliverDue(now: Date = Date()) async -> Int {
        var total = 0
        while !Task.isCancelled {
            let delivered = await pass(now: now)
            total += delivered
            // The next of each group may now be due; stop when a pass makes no progress.
            guard delivered > 0 else { break }
        }
        return total
    }

    /// One batch of the outbox: how many were delivered.
    private func pass(now: Date) async -> Int {
        let pending: [OutboxEntry]
        do {
            // One per group (the oldest, when due): the store keeps the order within a group.
            pending = try store.dueNotifications(at: now, limit: settings.batch)
        } catch {
            logger.error("cannot read the outbox: \(error)")
            return 0
        }
        var queues: [String: [OutboxEntry]] = [:]
        for entry in pending {
            queues[entry.intent.receiver + "\u{0}" + entry.intent.groupKey, default: []].append(entry)
        }
        // Groups go concurrently, at most `inFlightPerReceiver` of each receiver at a time: libcurl
        // queues what its connections to a host cannot take anyway, each transfer in flight holds a
        // handle and a request body, and a receiver that makes us wait (rate limits, slow answers)
        // never holds up another. Outcomes are recorded once `recordEvery` are in, or when one
        // arrives a second or more after the oldest unrecorded one, which bounds the window
        // between a receiver's 2xx and its record.
        var delivered = 0
        var waiting: [String: ArraySlice<[OutboxEntry]>] = [:]
        for queue in queues.values { waiting[queue[0].intent.receiver, default: []].append(queue) }
        await withTaskGroup(of: (receiver: String, records: [DeliveryRecord]).self) { tasks in
            for (receiver, queues) in waiting {
                for queue in queues.prefix(settings.inFlightPerReceiver) {
                    tasks.addTask { (receiver, await self.deliver(queue)) }
                }
                waiting[receiver] = queues.dropFirst(settings.inFlightPerReceiver)
            }
            var finished: [(receiver: String, records: [DeliveryRecord])] = []
            var unrecorded = 0
            var since = ContinuousClock.now
            for await outcome in tasks {
                if finished.isEmpty { since = .now }
                finished.append(outcome)
                unrecorded += outcome.records.count
                if let queue = waiting[outcome.receiver]?.popFirst() {
                    tasks.addTask { (outcome.receiver, await self.deliver(queue)) }
                }
                if unrecorded >= settings.recordEvery || since.duration(to: .now) >= .seconds(1) {
                    delivered += record(finished)
                    finished = []
                    unrecorded = 0
                }
            }
            if !finished.isEmpty { delivered += record(finished) }
        }
        return delivered
    }

    /// Records delivery outcomes in one transaction and counts them per receiver; returns how many were sent.
    private func record(_ outcomes: [(receiver: String, records: [DeliveryRecord])]) -> Int {
        let records = outcomes.flatMap(\.records)
        if records.contains(where: { $0.kind == .sent }) { CrashPoint.afterDelivery.hit() }
        do {
            try store.record(records, at: Date())
        } catch {
            logger.error("cannot record delivery outcomes (the notifications may be sent again): \(error)")
        }
        if let metrics {
            var tally: [String: (sent: Int, retried: Int, dead: Int)] = [:]
            for (receiver, records) in outcomes {
                var counts = tally[receiver] ?? (0, 0, 0)
                for record in records {
                    switch record.kind {
                    case .sent: counts.sent += 1
                    case .retry: counts.retried += 1
                    case .dead: counts.dead += 1
                    }
                }
                tally[receiver] = counts
            }
            for (receiver, counts) in tally {
                metrics.deliveries(receiver: receiver, sent: counts.sent, retried: counts.retried, dead: counts.dead)
            }
        }
        return records.filter { $0.kind == .sent }.count
    }

    /// Delivers one group's due notifications in order; stops at the first that must wait.
    private func deliver(_ queue: [OutboxEntry]) async -> [DeliveryRecord] {
        var records: [DeliveryRecord] = []
        for entry in queue {
            let record = await deliverOne(entry)
            records.append(record)
            if case .retry = record.kind { break }
        }
        return records
    }

    private func deliverOne(_ entry: OutboxEntry) async -> DeliveryRecord {
        let intent = entry.intent
        guard let receiver = receivers[intent.receiver] else {
            return decide(.permanentFailure("receiver \"\(intent.receiver)\" is no longer configured"), entry: entry)
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
        return decide(outcome, entry: entry)
    }

    private func send(_ request: HTTPRequestSpec, receiver: any Receiver) async -> DeliveryOutcome {
        do {
            let response = try await http.send(request)
            if let pause = receiver.pause(after: response) {
                let seconds = Date().timeIntervalSince1970
                withBucket(of: receiver, now: seconds) { $0.pause(until: seconds + pause) }
                logger.info("receiver asked for a pause of \(DurationText.format(seconds: pause))", metadata: ["receiver": "\(receiver.name)"])
            }
            return receiver.interpret(response)
        } catch {
            // The kind and libcurl's detail only: a webhook URL's path can be its secret.
            let reason = receiver.scrub("\(error.kind.rawValue): \(error.detail)")
            return error.isRetryable ? .retry(reason: reason, after: nil) : .permanentFailure(reason)
        }
    }

    /// What to record for an outcome, and the log line about it.
    private func decide(_ outcome: DeliveryOutcome, entry: OutboxEntry) -> DeliveryRecord {
        let id = entry.intent.id
        let now = Date()
        switch outcome {
        case .delivered:
            logger.debug("delivered", metadata: ["notification": "\(id)", "receiver": "\(entry.intent.receiver)"])
            return DeliveryRecord(id: id, kind: .sent)
        case .permanentFailure(let reason):
            logger.error("notification dead-lettered: \(reason)", metadata: ["notification": "\(id)", "receiver": "\(entry.intent.receiver)"])
            return DeliveryRecord(id: id, kind: .dead(error: reason))
        case .retry(let reason, let after):
            if now.timeIntervalSince(entry.createdAt) >= settings.maxRetryAge {
                logger.error("notification dead-lettered after retries: \(reason)", metadata: ["notification": "\(id)"])
                return DeliveryRecord(id: id, kind: .dead(error: "gave up after \(entry.attempts + 1) attempts: \(reason)"))
            }
            let cap = min(settings.maxBackoff, settings.baseBackoff * pow(2, Double(min(entry.attempts, 30))))
            let wait = after.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? Double.random(in: 0...cap)
            logger.warning("delivery failed, retrying in \(DurationText.format(seconds: wait)): \(reason)",
                metadata: ["notification": "\(id)", "receiver": "\(entry.intent.receiver)"])
            return DeliveryRecord(id: id, kind: .retry(at: now.addingTimeInterval(wait), error: reason))
        }
    }

    private func waitForToken(_ receiver: any Receiver) async {
        while true {
            let seconds = Date().timeIntervalSince1970
            guard let wait = withBucket(of: receiver, now: seconds, { $0.take(now: seconds) }) else { return }
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000) + 1))
        }
    }

    /// Acts on a receiver's token bucket, made on first use.
    private func withBucket<T>(of receiver: any Receiver, now: Double, _ body: (inout TokenBucket) -> T) -> T {
        var bucket = buckets[receiver.name] ?? TokenBucket(receiver.rateLimit, now: now)
        defer { buckets[receiver.name] = bucket }
        return body(&bucket)
    }
}
