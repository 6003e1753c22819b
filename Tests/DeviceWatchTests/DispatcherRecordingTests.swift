import CurlHTTP
import DeviceAPISimulator
import DeviceWatchCore
import Foundation
import Synchronization
import Testing

@testable import DeviceWatch

/// The real SQLite store, whose first write of outcomes is held open until the test lets it go.
final class HeldRecordStore: StoreWrapper {
    let store: SQLiteStateStore
    private let holdNext = Mutex(true)
    private let held = Mutex<CheckedContinuation<Void, Never>?>(nil)

    init(path: String) throws { store = try SQLiteStateStore(path: path) }

    var wrapped: any StateStore { store }

    /// The first write is under way and held.
    var isHolding: Bool { held.withLock { $0 != nil } }

    func record(_ outcomes: [DeliveryRecord], at now: Date) async throws(StateStoreError) {
        let hold = holdNext.withLock { value in
            defer { value = false }
            return value
        }
        if hold { await withCheckedContinuation { continuation in held.withLock { $0 = continuation } } }
        try await store.record(outcomes, at: now)
    }

    /// Lets the held write go on.
    func release() {
        held.withLock { continuation in
            defer { continuation = nil }
            return continuation
        }?.resume()
    }
}

@Suite("Dispatcher recording outcomes", .serialized)
struct DispatcherRecordingTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-record-\(UUID().uuidString).db").path

    func intent(_ id: String) -> NotificationIntent {
        var intent = Fixed.intent(firing: [Fixed.alert(1)])
        intent.id = id
        intent.groupKey = id
        intent.receiver = "hook"
        return intent
    }

    /// Outcomes are written one transaction at a time. An answer that comes in while a write is
    /// under way has its record timer fire during that write (which it cannot join); when the
    /// write ends, it gets a timer of its own, so it is recorded within `record_within` on the
    /// clock, not left waiting for whatever wakes the dispatcher next (here: nothing ever).
    @Test func anAnswerThatComesInDuringAWriteIsRecordedWhenTheWriteEnds() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try await RecordingSink.start()
        defer { Task { await sink.stop() } }
        let store = try HeldRecordStore(path: path)
        let clock = ManualClock()
        let dispatcher = Dispatcher(
            store: store, http: CurlHTTPClient(),
            receivers: [
                "hook": WebhookReceiver(
                    name: "hook", url: Secret(sink.url), rateLimit: .init(perSecond: 1000, burst: 1000))
            ],
            context: Fixed.context, clock: clock.workerClock)
        try await enqueueInOutbox([intent("a")], store.store)
        let loop = Task { await dispatcher.run() }
        await dispatcher.wake()
        #expect(await sink.wait(seconds: 10) { $0.count == 1 })
        // Its record timer, on the clock: the write of "a" begins, and is held open.
        #expect(
            await waitFor(seconds: 10) {
                clock.advance(by: 0.01)
                return store.isHolding
            })

        // "b" is answered meanwhile; its record timer fires while the write of "a" lasts.
        try await enqueueInOutbox([intent("b")], store.store)
        await dispatcher.wake()
        #expect(await sink.wait(seconds: 10) { $0.count == 2 })
        #expect(await clock.waitForSleepers())
        clock.advance(by: 0.01)
        // A moment for the loop to take that timer (scheduling, not time: had it not taken it
        // yet, the test would pass either way, never fail wrongly).
        try await Task.sleep(for: .milliseconds(100))

        store.release()
        #expect(
            await waitFor(seconds: 10) {
                clock.advance(by: 0.01)
                return (try? await store.store.notifications(state: .sent, limit: 10).map(\.intent.id).sorted())
                    == ["a", "b"]
            })
        await #expect(try store.store.notifications(state: .pending, limit: 10).isEmpty)
        loop.cancel()
        await loop.value
    }
}
