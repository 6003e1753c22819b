import CurlHTTP
import DeviceWatchCore
import Foundation
import Logging

/// Delivers the outbox: a lane per receiver, so a receiver that hangs, answers slowly or is
/// rate-limited delays only itself; concurrently across the groups of a receiver (at most
/// `inFlightPerReceiver` at once), in order within a group (a resolve never overtakes its
/// firing), rate-limited per receiver, retried with exponential backoff and full jitter
/// (honouring `Retry-After`), dead-lettered after `maxRetryAge`.
///
/// There is no pass that waits for all its transfers: each finished transfer frees its slot at
/// once and the lane takes the next due notification. Outcomes are written to the store within
/// `recordWithin` of the answer, or as soon as `inFlightPerReceiver` of them are in (every
/// outcome that arrived meanwhile in one transaction), and a group's next notification goes only
/// after its previous outcome is recorded, so a crash repeats at most what was in flight and
/// what was answered in the last few milliseconds.
public actor Dispatcher {
    public struct Settings: Sendable {
        /// An undelivered notification older than this is dead-lettered.
        public var maxRetryAge: Duration = .days(1)
        /// The backoff cap before the first retry (it doubles after each attempt, full jitter).
        public var baseBackoff: Duration = .seconds(1)
        public var maxBackoff: Duration = .minutes(5)
        /// Due notifications read from the store at once, per receiver.
        public var batch: Int = 64
        /// Groups of one receiver delivered at once (libcurl keeps at most 16 connections per host).
        public var inFlightPerReceiver: Int = 16
        /// The longest an answer waits to be recorded: outcomes arriving meanwhile share its transaction.
        public var recordWithin: Duration = .milliseconds(5)
        /// Delivered notifications are kept this long (for `notifications list` and the status page), then deleted.
        public var keepSent: Duration = .days(7)
        /// Dead letters are kept this long, then deleted.
        public var keepDead: Duration = .days(30)
        /// Device status changes are kept this long (`history.keep`), then pruned with the outbox.
        public var keepStatusChanges: Duration = .days(35)

        public init() {}
    }

    /// An answer not yet recorded, with its receiver and group.
    typealias Answered = (receiver: String, group: String, record: DeliveryRecord)

    /// What the delivery loop waits for.
    private enum Event: Sendable {
        case answered(receiver: String, entry: OutboxEntry, record: DeliveryRecord?)
        case read(Read, rows: [OutboxEntry], failure: StateStoreError?)
        case recorded([Answered], failure: StateStoreError?)
        /// A wake-up from the stream (new notifications, the second's tick), or a retry falling due.
        case wake(fromStream: Bool)
        case recordDue
    }

    let store: any StateStore
    let http: CurlHTTPClient
    var receivers: [String: any Receiver]
    var context: RenderContext
    let settings: Settings
    let policy: DeliveryPolicy
    let logger: Logger
    let metrics: WorkerMetrics?
    let storeHealth: StoreHealth?
    let clock: WorkerClock
    /// The rate limits shared with other workers (PostgreSQL), else nil: this worker's own buckets.
    let pacing: (any SharedPacing)?
    /// Tokens taken from the shared bucket and not yet spent, per receiver.
    var reservedTokens: [String: Int] = [:]
    var buckets: [String: TokenBucket] = [:]
    var lanes: [String: Lane] = [:]
    /// Outcomes answered and not yet recorded.
    var unrecorded: [Answered] = []
    /// A transaction of outcomes is being written.
    var recording = false
    private var wakeups: AsyncStream<Void>.Continuation?
    /// When the next retry falls due: the loop wakes for it.
    var nextRetry: Date?
    var lastPrune = Date.distantPast
    /// Set by ``finish()``: the delivery loop drains and returns.
    private var finishing = false

    /// - Parameter clock: the local wall clock (the outbox's times are on it) and the sleeps of
    ///   rate limits and retries.
    public init(
        store: any StateStore, http: CurlHTTPClient, receivers: [String: any Receiver], context: RenderContext,
        settings: Settings = Settings(), metrics: WorkerMetrics? = nil, storeHealth: StoreHealth? = nil,
        logger: Logger = Logger(label: "devicewatch.dispatcher"), clock: WorkerClock = .system,
        pacing: (any SharedPacing)? = nil
    ) {
        self.pacing = pacing
        self.metrics = metrics
        self.storeHealth = storeHealth
        self.store = store
        self.http = http
        self.receivers = receivers
        self.context = context
        self.settings = settings
        self.policy = DeliveryPolicy(
            maxRetryAge: settings.maxRetryAge,
            backoff: RetryPolicy(
                maxAttempts: .max, baseDelay: settings.baseBackoff, maxDelay: settings.maxBackoff,
                maxTotal: .seconds(Int.max / 2)))
        self.logger = logger
        self.clock = clock
    }

    /// New receivers or rules after a reload.
    public func update(receivers: [String: any Receiver], context: RenderContext) {
        self.receivers = receivers
        self.context = context
        // Lanes of receivers the outbox names are read again when the loop (re)starts.
        markAllUnexhausted()
        wake()
    }

    /// Asks the delivery loop to look at the outbox now.
    public func wake() {
        wakeups?.yield()
    }

    /// Asks ``run()`` to finish: transfers under way complete and are recorded (none is cut off),
    /// what is due goes, and then it returns. For a graceful shutdown.
    public func finish() {
        finishing = true
        for name in lanes.keys { lanes[name]?.retried = [] }
        wakeups?.yield()
    }

    /// Delivers until cancelled or told to ``finish()``: after every wake-up, when a retry falls
    /// due, and at least every second. Outcomes answered when it is cancelled are recorded;
    /// transfers it cancels are not (they stay pending and go at the next start).
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
        await drive(dueAt: nil, wakeups: stream)
    }

    /// Delivers everything due at `now` (the dispatcher's clock when nil), each group's
    /// notifications in order, until nothing more is due or every remaining group waits for a
    /// retry. Returns how many notifications were delivered.
    @discardableResult
    public func deliverDue(now: Date? = nil) async -> Int {
        for name in lanes.keys { lanes[name]?.retried = [] }
        return await drive(dueAt: now, wakeups: nil)
    }

    // MARK: The loop

    /// The delivery loop: fills every lane, then waits for an answer, a read of the store, a
    /// written batch of outcomes, a wake-up or the moment to record. The store's reads and
    /// writes run beside the transfers, never holding the loop. Without `wakeups` it returns
    /// once nothing is in flight and nothing more is due.
    @discardableResult
    private func drive(dueAt fixedNow: Date?, wakeups: AsyncStream<Void>?) async -> Int {
        var sent = 0
        await withTaskGroup(of: Event.self) { tasks in
            var waitingForWake = false
            var recordScheduled = false
            var retryTimer: Date?
            func listen() {
                guard let wakeups, !waitingForWake else { return }
                waitingForWake = true
                tasks.addTask {
                    for await _ in wakeups { return .wake(fromStream: true) }
                    return .wake(fromStream: true)
                }
            }
            func writeUnrecorded() {
                guard let batch = takeUnrecorded() else { return }
                let at = clock.now()
                tasks.addTask { [self] in .recorded(batch, failure: await self.write(batch, at: at)) }
            }
            // Answers wait at most `recordWithin` to be written.
            func scheduleRecord() {
                guard !recordScheduled else { return }
                recordScheduled = true
                let within = settings.recordWithin
                tasks.addTask { [clock] in
                    try? await clock.sleep(within)
                    return .recordDue
                }
            }
            listen()
            await refreshLanes()
            while true {
                if Task.isCancelled, wakeups != nil { break }
                // Draining (deliverDue, or run() told to finish): what is due goes, then the loop ends.
                let draining = wakeups == nil || finishing
                let at = fixedNow ?? clock.now()
                let fill = fill(stopRetried: draining)
                for (receiver, entry) in fill.sends {
                    tasks.addTask { [self] in
                        .answered(receiver: receiver, entry: entry, record: await self.attempt(entry))
                    }
                }
                for read in fill.reads {
                    tasks.addTask { [self] in
                        let (rows, failure) = await self.run(read, at: at)
                        return .read(read, rows: rows, failure: failure)
                    }
                }
                if wakeups != nil, let due = nextRetry, retryTimer.map({ due < $0 }) ?? true {
                    retryTimer = due
                    let wait = max(.zero, due.duration(since: clock.now()))
                    tasks.addTask { [clock] in
                        try? await clock.sleep(wait + .milliseconds(1))
                        return .wake(fromStream: false)
                    }
                }
                if draining, !recording, lanes.values.allSatisfy({ $0.transfers == 0 && !$0.reading }) {
                    // Draining: record what is answered; stop once that releases nothing new.
                    if unrecorded.isEmpty { break }
                    writeUnrecorded()
                }
                guard let event = await tasks.next() else { break }
                switch event {
                case .answered(let receiver, let entry, let record):
                    lanes[receiver, default: Lane()].transfers -= 1
                    if let record {
                        unrecorded.append((receiver, entry.intent.groupKey, record))
                        if case .retry = record.kind { lanes[receiver]?.retried.insert(entry.intent.groupKey) }
                        if unrecorded.count >= settings.inFlightPerReceiver {
                            // A transaction's worth: record now rather than let a crash repeat more.
                            writeUnrecorded()
                        } else {
                            scheduleRecord()
                        }
                    } else {
                        // Cancelled (shutting down): not recorded, still pending.
                        lanes[receiver]?.held.remove(entry.intent.groupKey)
                    }
                case .read(let read, let rows, let failure):
                    finished(read, rows: rows, failure: failure)
                case .recorded(let batch, let failure):
                    sent += recorded(batch, failure: failure)
                    // What was answered while that was written goes in the next transaction, now
                    // or within `recordWithin` (a timer that fired meanwhile found a write under way).
                    if failure == nil, !unrecorded.isEmpty {
                        if unrecorded.count >= settings.inFlightPerReceiver {
                            writeUnrecorded()
                        } else {
                            scheduleRecord()
                        }
                    }
                case .recordDue:
                    recordScheduled = false
                    writeUnrecorded()
                case .wake(let fromStream):
                    // One listener on the stream at a time: a new one only when this one has ended.
                    if fromStream {
                        waitingForWake = false
                        listen()
                    }
                    let at = clock.now()
                    if let timer = retryTimer, timer <= at { retryTimer = nil }
                    if let due = nextRetry, due <= at { nextRetry = nil }
                    // Outcomes the store refused before are tried again.
                    writeUnrecorded()
                    markAllUnexhausted()
                    await pruneIfDue()
                }
            }
            tasks.cancelAll()
            // Answers already in are recorded, whatever stopped the loop; a write under way
            // finishes (or fails, and its outcomes are written again here).
            while let event = await tasks.next() {
                switch event {
                case .answered(let receiver, let entry, let record):
                    lanes[receiver, default: Lane()].transfers -= 1
                    if let record {
                        unrecorded.append((receiver, entry.intent.groupKey, record))
                    } else {
                        lanes[receiver]?.held.remove(entry.intent.groupKey)
                    }
                case .read(let read, let rows, let failure):
                    finished(read, rows: rows, failure: failure, quietly: true)
                case .recorded(let batch, let failure):
                    sent += recorded(batch, failure: failure, quietly: true)
                case .recordDue, .wake: break
                }
            }
            sent += await recordAnswers()
        }
        return sent
    }
}
