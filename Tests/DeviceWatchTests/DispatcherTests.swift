import DeviceAPISimulator
import DeviceWatchCore
import Foundation
import Testing

@testable import CurlHTTP
@testable import DeviceWatch

@Suite("Dispatcher against a recording sink", .serialized)
struct DispatcherTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-dispatch-\(UUID().uuidString).db").path

    func intent(_ sequence: Int, group: String = "g1", firing: Bool = true) -> NotificationIntent {
        var intent =
            firing
            ? Fixed.intent(firing: [Fixed.alert(1)])
            : Fixed.intent(firing: [], resolved: [Fixed.alert(1, status: .resolved)], reason: .resolved)
        intent.id = "\(group)-\(sequence)"
        intent.groupKey = group
        intent.receiver = "hook"
        return intent
    }

    func dispatcher(
        _ sink: RecordingSink, store: SQLiteStateStore, settings: Dispatcher.Settings = .init(),
        receiver: (any Receiver)? = nil, clock: WorkerClock = .system
    ) -> Dispatcher {
        let hook =
            receiver
            ?? WebhookReceiver(name: "hook", url: Secret(sink.url), rateLimit: .init(perSecond: 1000, burst: 1000))
        return Dispatcher(
            store: store, http: CurlHTTPClient(), receivers: ["hook": hook], context: Fixed.context, settings: settings,
            clock: clock)
    }

    func enqueue(_ intents: [NotificationIntent], _ store: SQLiteStateStore) async throws {
        try await enqueueInOutbox(intents, store)
    }

    /// A sink answering `statuses` in turn and a store of its own holding `intents`, for `body`;
    /// the store's file is removed and the sink stopped afterwards.
    func withOutbox(
        statuses: [Int] = [], holding intents: [NotificationIntent],
        _ body: (RecordingSink, SQLiteStateStore) async throws -> Void
    ) async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try await RecordingSink.start(statuses: statuses)
        defer { Task { await sink.stop() } }
        let store = try SQLiteStateStore(path: path)
        try await enqueue(intents, store)
        try await body(sink, store)
    }

    @Test func aSuccessIsDeliveredOnceAndMarkedSent() async throws {
        try await withOutbox(holding: [intent(1)]) { sink, store in
            let dispatcher = dispatcher(sink, store: store)
            #expect(await dispatcher.deliverDue() == 1)
            #expect(await dispatcher.deliverDue() == 0)
            #expect(sink.requests.count == 1)
            let sent = try await store.notifications(state: .sent, limit: 10)
            #expect(sent.map(\.intent.id) == ["g1-1"])
        }
    }

    @Test func theHourlyPruneTrimsTheStatusLogToHistoryKeep() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try await RecordingSink.start()
        defer { Task { await sink.stop() } }
        let store = try SQLiteStateStore(path: path)
        let day = 86_400.0, now = OpsServerTests.now, t0 = now.addingTimeInterval(-40 * day)
        var changes = StateChanges()
        changes.statusChanges = [
            StatusChange(workspace: "acme", deviceID: "cam-1", status: .online, at: t0),
            StatusChange(workspace: "acme", deviceID: "cam-1", status: .offline, at: t0.addingTimeInterval(day)),
            StatusChange(workspace: "acme", deviceID: "cam-1", status: .online, at: t0.addingTimeInterval(39 * day)),
        ]
        try await store.commit(changes, at: t0)
        var settings = Dispatcher.Settings()
        settings.keepStatusChanges = .seconds(35 * day)
        await dispatcher(sink, store: store, settings: settings).prune(now: now)
        // The first row is superseded before the cutoff; the second says the status at the cutoff.
        let left = try await store.statusLog(StatusLogQuery()).changes
        #expect(left.map(\.statusText) == ["offline", "online"])
    }

    @Test func serverErrorsAreRetriedWithBackoffThenDelivered() async throws {
        try await withOutbox(statuses: [503], holding: [intent(1)]) { sink, store in
            let dispatcher = dispatcher(sink, store: store)
            #expect(await dispatcher.deliverDue() == 0)
            let pending = try await #require(try store.dueNotifications(at: .distantFuture, limit: 10).first)
            #expect(pending.attempts == 1)
            #expect(pending.lastError?.hasPrefix("HTTP 503") == true)
            #expect(pending.nextAttemptAt <= Date().addingTimeInterval(1.01))  // full jitter within the first 1s cap
            #expect(await dispatcher.deliverDue(now: pending.nextAttemptAt) == 1)
            #expect(sink.requests.count == 2)
            #expect(Set(sink.requests.map { $0.body }).count == 1)  // the same notification again
        }
    }

    @Test func aRateLimitHonoursRetryAfter() async throws {
        try await withOutbox(statuses: [429], holding: [intent(1)]) { sink, store in
            let before = Date()
            let dispatcher = dispatcher(sink, store: store)
            await dispatcher.deliverDue()
            let pending = try await #require(try store.dueNotifications(at: .distantFuture, limit: 10).first)
            #expect(pending.nextAttemptAt >= before.addingTimeInterval(1))  // Retry-After: 1
            #expect(await dispatcher.deliverDue(now: before) == 0)  // not due yet: nothing sent
            #expect(sink.requests.count == 1)
        }
    }

    @Test func permanentFailuresAreDeadLetteredAndNeverRetried() async throws {
        try await withOutbox(statuses: [400], holding: [intent(1)]) { sink, store in
            let dispatcher = dispatcher(sink, store: store)
            await dispatcher.deliverDue()
            await dispatcher.deliverDue(now: .distantFuture)
            #expect(sink.requests.count == 1)
            let dead = try await #require(try store.notifications(state: .dead, limit: 10).first)
            #expect(dead.lastError?.hasPrefix("HTTP 400") == true)
        }
    }

    @Test func retriesEndInTheDeadLetterAfterMaxRetryAge() async throws {
        try await withOutbox(statuses: [500], holding: [intent(1)]) { sink, store in
            var settings = Dispatcher.Settings()
            settings.maxRetryAge = .zero
            await dispatcher(sink, store: store, settings: settings).deliverDue()
            let dead = try await store.notifications(state: .dead, limit: 10)
            #expect(dead.first?.lastError?.contains("gave up after 1 attempts") == true)
        }
    }

    @Test func aResolveNeverOvertakesItsFiring() async throws {
        try await withOutbox(statuses: [503], holding: [intent(1), intent(2, firing: false)]) { sink, store in
            let dispatcher = dispatcher(sink, store: store)
            await dispatcher.deliverDue()
            // The firing failed: its resolve waited behind it.
            #expect(sink.requests.count == 1)
            #expect(sink.requests.first?.json?["status"] as? String == "firing")
            await dispatcher.deliverDue(now: .distantFuture)
            let order = sink.requests.suffix(2).compactMap { $0.json?["status"] as? String }
            #expect(order == ["firing", "resolved"])
        }
    }

    @Test func aGroupWaitingForARetryNeverHoldsUpAnother() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        // A 429 with Retry-After: 1, so a-1 waits a whole second (a 503's full jitter may be ~0).
        let sink = try await RecordingSink.start(statuses: [429])
        defer { Task { await sink.stop() } }
        let store = try SQLiteStateStore(path: path)
        try await enqueue([intent(1, group: "a")], store)
        var settings = Dispatcher.Settings()
        settings.batch = 2
        let dispatcher = dispatcher(sink, store: store, settings: settings)
        #expect(await dispatcher.deliverDue() == 0)  // a-1 fails and waits
        // Many more for group a, then one for group b: b goes although a's queue is long.
        try await enqueue((2...50).map { intent($0, group: "a", firing: $0 % 2 == 1) } + [intent(1, group: "b")], store)
        #expect(await dispatcher.deliverDue() == 1)
        #expect(sink.requests.count == 2)
        await #expect(try store.notifications(state: .sent, limit: 10).map(\.intent.id) == ["b-1"])
    }

    @Test func aLaneReadsItsNextBatchWhileItsTransfersAreUnderWay() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Both first requests hang: nothing is answered, so nothing is released, while the
        // lane's read-ahead runs low (a batch of 3, 2 in flight, 1 left).
        let sink = try await RecordingSink.start(statuses: [RecordingSink.hang, RecordingSink.hang])
        defer { Task { await sink.stop() } }
        let store = try FlakyStore(path: path)
        try await enqueue((1...6).map { intent(1, group: "g\($0)") }, store.store)
        var settings = Dispatcher.Settings()
        settings.batch = 3
        settings.inFlightPerReceiver = 2
        let dispatcher = Dispatcher(
            store: store, http: CurlHTTPClient(),
            receivers: ["hook": WebhookReceiver(name: "hook", url: Secret(sink.url))],
            context: Fixed.context, settings: settings)
        let running = Task { await dispatcher.run() }
        defer { running.cancel() }
        #expect(await sink.wait { $0.count == 2 })
        // The next batch was read with both transfers still hanging, and it holds none of their groups.
        let deadline = ContinuousClock.now + .seconds(15)
        func ahead() async -> [String] { await dispatcher.lanes["hook"]?.ready.map(\.intent.groupKey) ?? [] }
        while await ahead().count < 4, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(store.outboxReads.withLock { $0 } == 2)
        let held = await dispatcher.lanes["hook"]?.held ?? [], readAhead = await ahead()
        #expect(held.count == 2 && Set(readAhead).count == 4 && held.isDisjoint(with: readAhead))
        #expect(sink.requests.count == 2)
        await #expect(try store.notifications(state: .sent, limit: 10).isEmpty)
        running.cancel()
        await running.value
        // Cancelled transfers stay pending: all six are still to be sent, none twice.
        await #expect(try store.notifications(state: .pending, limit: 10).count == 6)
    }

    @Test func aRateLimitedReceiverNeverHoldsUpAnother() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try await RecordingSink.start()
        defer { Task { await sink.stop() } }
        let store = try SQLiteStateStore(path: path)
        // Six groups for a receiver allowed 2 requests/s, queued before twenty for a fast one.
        let slow = (1...6).map { index in
            var intent = intent(1, group: "slow-\(index)")
            intent.receiver = "slow"
            return intent
        }
        try await enqueue(slow + (1...20).map { intent(1, group: "fast-\($0)") }, store)
        var settings = Dispatcher.Settings()
        settings.inFlightPerReceiver = 2
        let receivers: [String: any Receiver] = [
            "hook": WebhookReceiver(
                name: "hook", url: Secret(sink.url + "/fast"), rateLimit: .init(perSecond: 1000, burst: 1000)),
            "slow": WebhookReceiver(
                name: "slow", url: Secret(sink.url + "/slow"), rateLimit: .init(perSecond: 2, burst: 1)),
        ]
        let clock = ManualClock()
        let dispatcher = Dispatcher(
            store: store, http: CurlHTTPClient(), receivers: receivers, context: Fixed.context, settings: settings,
            clock: clock.workerClock)
        let delivering = Task { await dispatcher.deliverDue() }
        func count(_ suffix: String) -> Int { sink.requests.filter { $0.path.hasSuffix(suffix) }.count }
        // Without the clock moving: every fast notification, and the one request the slow
        // receiver's bucket holds, then the slow lane waits for its next token.
        #expect(await sink.wait { _ in count("/fast") == 20 && count("/slow") == 1 })
        #expect(await clock.waitForSleepers(longerThan: 0.1))
        #expect(count("/slow") == 1)
        // Each half second of the clock releases one more slow request, and no more (the lane
        // sleeps a millisecond past the token, hence 0.51).
        for released in 2...6 {
            clock.advance(by: 0.51)
            #expect(await sink.wait { _ in count("/slow") == released })
            guard released < 6 else { break }
            // Waiting for the next token again, with no more sent meanwhile.
            #expect(await clock.waitForSleepers(longerThan: 0.1))
            #expect(count("/slow") == released)
        }
        // Recording waits on the clock too (record_within): move it until the pass is done.
        #expect(await clock.drive(until: delivering) == 26)
        #expect(count("/fast") == 20)
    }

    @Test func anUnreachableReceiverIsRetriedAndItsURLNeverLogged() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try await RecordingSink.start()
        let url = sink.url + "/SECRET-PATH"
        await sink.stop()
        let store = try SQLiteStateStore(path: path)
        try await enqueue([intent(1)], store)
        let receiver = WebhookReceiver(name: "hook", url: Secret(url))
        await dispatcher(sink, store: store, receiver: receiver).deliverDue()
        let pending = try await #require(try store.dueNotifications(at: .distantFuture, limit: 10).first)
        #expect(pending.attempts == 1)
        #expect(pending.lastError?.contains("could not connect") == true)
        #expect(pending.lastError?.contains("SECRET-PATH") == false)
    }

    @Test(arguments: [(RecordingSink.hangUp, "connection lost"), (RecordingSink.slow, "request timed out")])
    func aReceiverThatHangsUpOrStallsIsRetriedLater(answer: Int, expected: String) async throws {
        try await withOutbox(statuses: [answer], holding: [intent(1)]) { sink, store in
            let receiver = WebhookReceiver(name: "hook", url: Secret(sink.url), timeout: .milliseconds(500))
            let dispatcher = dispatcher(sink, store: store, receiver: receiver)
            #expect(await dispatcher.deliverDue() == 0)
            let pending = try await #require(try store.dueNotifications(at: .distantFuture, limit: 10).first)
            #expect(pending.lastError?.hasPrefix(expected) == true, "\(pending.lastError ?? "")")
            #expect(await dispatcher.deliverDue(now: pending.nextAttemptAt) == 1)
            let sent = try await store.notifications(state: .sent, limit: 10)
            #expect(sent.count == 1)
        }
    }

    @Test func aNotificationForARemovedReceiverIsDeadLettered() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStateStore(path: path)
        var orphan = intent(1)
        orphan.receiver = "gone"
        try await enqueue([orphan], store)
        let sink = try await RecordingSink.start()
        defer { Task { await sink.stop() } }
        await dispatcher(sink, store: store).deliverDue()
        await #expect(
            try store.notifications(state: .dead, limit: 10).first?.lastError?.contains("no longer configured") == true)
    }

    @Test func theTokenBucketAllowsABurstThenTheRate() {
        var bucket = TokenBucket(.init(perSecond: 2, burst: 3), now: 100)
        #expect(bucket.take(now: 100) == nil)
        #expect(bucket.take(now: 100) == nil)
        #expect(bucket.take(now: 100) == nil)
        let wait = bucket.take(now: 100)
        #expect(wait.map { abs($0 - 0.5) < 1e-9 } == true)
        #expect(bucket.take(now: 100.5) == nil)
        #expect(bucket.take(now: 100.5) != nil)
    }

    @Test func discordsRetryAfterInTheBodyIsHonoured() {
        let discord = DiscordReceiver(name: "d", url: Secret("https://discord.test/x"))
        let answer = HTTPResponseData(
            status: 429, headers: [:], body: Data(#"{"retry_after": 2.5, "global": false}"#.utf8))
        #expect(
            discord.interpret(answer) == .retry(reason: "HTTP 429 (Discord rate limit)", after: .milliseconds(2500)))
    }

    @Test func aPauseHoldsEveryRequestUntilItEnds() {
        var bucket = TokenBucket(.init(perSecond: 100, burst: 100), now: 100)
        bucket.pause(until: 102)
        #expect(bucket.take(now: 100.5).map { abs($0 - 1.5) < 1e-9 } == true)
        #expect(bucket.take(now: 102) == nil)
    }

    @Test func discordsRateLimitHeadersPauseTheReceiver() {
        let discord = DiscordReceiver(name: "d", url: Secret("https://discord.test/x"))
        let empty = HTTPResponseData(
            status: 204, headers: ["X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "1.5"], body: Data())
        #expect(discord.pause(after: empty) == 1.5)
        let left = HTTPResponseData(
            status: 204, headers: ["X-RateLimit-Remaining": "3", "X-RateLimit-Reset-After": "1.5"], body: Data())
        #expect(discord.pause(after: left) == nil)
        let limited = HTTPResponseData(
            status: 429, headers: [:], body: Data(#"{"retry_after": 2.5, "global": true}"#.utf8))
        #expect(discord.pause(after: limited) == 2.5)
    }

    /// Over loopback: the sink says its bucket is empty for 4 s; the next notification (another
    /// group, which the 1/s rate alone would let go after 1 s) goes no sooner.
    @Test func anEmptyDiscordBucketDelaysTheNextRequestUntilItsReset() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try await RecordingSink.start(headers: [
            "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "4",
        ])
        defer { Task { await sink.stop() } }
        let store = try SQLiteStateStore(path: path)
        try await enqueue([intent(1, group: "a"), intent(1, group: "b")], store)
        let discord = DiscordReceiver(name: "hook", url: Secret(sink.url), rateLimit: .init(perSecond: 1, burst: 1))
        let clock = ManualClock()
        let dispatcher = dispatcher(sink, store: store, receiver: discord, clock: clock.workerClock)
        let delivering = Task { await dispatcher.deliverDue() }
        // The first request goes at once and empties the bucket for 4 s (X-RateLimit-Reset-After).
        #expect(await sink.wait { $0.count == 1 })
        #expect(await clock.waitForSleepers(longerThan: 1))
        clock.advance(by: 3.9)
        // Still waiting: the pause is 4 s, not the 1 s of the configured rate.
        #expect(await sink.wait(seconds: 0.3) { $0.count == 2 } == false)
        clock.advance(by: 0.2)
        #expect(await sink.wait { $0.count == 2 })
        #expect(await clock.drive(until: delivering) == 2)
    }
}

/// Receivers are independent: one that accepts the request and answers nothing for 30 s holds up
/// no other. (The figure itself is measured by `Benchmarks/receiver-independence`.)
@Suite("Dispatcher lanes", .serialized)
struct DispatcherLaneTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-lanes-\(UUID().uuidString).db").path

    func intent(_ id: String, receiver: String) -> NotificationIntent {
        var intent = Fixed.intent(firing: [Fixed.alert(1)])
        intent.id = id
        intent.groupKey = id
        intent.receiver = receiver
        return intent
    }

    func enqueue(_ intents: [NotificationIntent], _ store: SQLiteStateStore) async throws {
        try await enqueueInOutbox(intents, store)
    }

    @Test func aHungReceiverNeverDelaysAnotherReceiversPageOrRetry() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let hung = try await RecordingSink.start(statuses: [RecordingSink.hang])
        let healthy = try await RecordingSink.start(statuses: [429])  // then 200: a retry after Retry-After: 1
        defer {
            Task {
                await hung.stop(); await healthy.stop()
            }
        }
        let store = try SQLiteStateStore(path: path)
        let fast = Configuration.RateLimit(perSecond: 1000, burst: 1000)
        let receivers: [String: any Receiver] = [
            "hung": WebhookReceiver(name: "hung", url: Secret(hung.url), rateLimit: fast),
            "healthy": WebhookReceiver(name: "healthy", url: Secret(healthy.url), rateLimit: fast),
        ]
        let dispatcher = Dispatcher(store: store, http: CurlHTTPClient(), receivers: receivers, context: Fixed.context)
        try await enqueue([intent("stuck", receiver: "hung")], store)
        let loop = Task { await dispatcher.run() }
        await dispatcher.wake()
        // The hang has begun: the hung receiver has the request and answers nothing.
        #expect(await hung.wait(seconds: 10) { $0.count == 1 })

        // A page for the healthy receiver, planned while the hang lasts, goes at once...
        let planned = Date()
        try await enqueue([intent("page", receiver: "healthy")], store)
        await dispatcher.wake()
        #expect(await healthy.wait(seconds: 10) { $0.count >= 1 })
        let first = try #require(healthy.requests.first)
        // A generous bound (the hang lasts 30 s; the benchmark measures a few milliseconds): a busy
        // test machine can take a second to schedule anything at all.
        #expect(
            first.receivedAt.timeIntervalSince(planned) < 5,
            "the healthy page took \(first.receivedAt.timeIntervalSince(planned)) s")
        // ...and its retry after the 429's Retry-After: 1 too, while the hang still lasts.
        #expect(await healthy.wait(seconds: 10) { $0.count >= 2 })
        let retry = try #require(healthy.requests.dropFirst().first)
        #expect(retry.receivedAt.timeIntervalSince(first.receivedAt) < 5)
        // Its 2xx is recorded within moments, not when the hung transfer ends.
        #expect(
            await waitFor(seconds: 2) {
                (try? await store.notifications(state: .sent, limit: 10).map(\.intent.id)) == ["page"]
            })
        let stuck = try await #require(try store.notifications(state: .pending, limit: 10).first)
        #expect(stuck.intent.id == "stuck" && stuck.attempts == 0)

        // Stopping cancels the hung transfer without recording it: it stays pending, not dead.
        loop.cancel()
        await loop.value
        await #expect(try store.notifications(state: .pending, limit: 10).map(\.intent.id) == ["stuck"])
        await #expect(try store.notifications(state: .dead, limit: 10).isEmpty)
    }
}

extension DispatcherLaneTests {
    /// A graceful shutdown lets a transfer under way finish and records it; nothing is cut off.
    @Test func finishingLetsATransferUnderWayCompleteAndRecordsIt() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try await RecordingSink.start(statuses: [RecordingSink.slow])  // answers after 3 s
        defer { Task { await sink.stop() } }
        let store = try SQLiteStateStore(path: path)
        let receivers: [String: any Receiver] = [
            "hook": WebhookReceiver(name: "hook", url: Secret(sink.url), rateLimit: .init(perSecond: 1000, burst: 1000))
        ]
        let dispatcher = Dispatcher(store: store, http: CurlHTTPClient(), receivers: receivers, context: Fixed.context)
        try await enqueue([intent("slow", receiver: "hook")], store)
        let loop = Task { await dispatcher.run() }
        await dispatcher.wake()
        #expect(await sink.wait(seconds: 10) { $0.count == 1 })  // under way
        await dispatcher.finish()
        await loop.value
        await #expect(try store.notifications(state: .sent, limit: 10).map(\.intent.id) == ["slow"])
    }
}

func waitFor(seconds: Double, _ condition: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// Puts notifications in the outbox as a cycle would.
func enqueueInOutbox(_ intents: [NotificationIntent], _ store: SQLiteStateStore) async throws {
    var changes = StateChanges()
    changes.intents = intents
    try await store.commit(changes, at: Date())
}
