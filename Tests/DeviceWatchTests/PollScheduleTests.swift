import CurlHTTP
import DeviceAPISimulator
import Foundation
import Logging
import Synchronization
import Testing

@testable import DeviceWatch
@testable import DeviceWatchCore

/// Virtual time: sleeping advances it at once and records the wait; past the horizon it throws,
/// which stops the poller.
final class VirtualTime: Sendable {
    private let state = Mutex<(now: Duration, waits: [Duration])>((.zero, []))
    let horizon: Duration

    init(horizon: Duration) { self.horizon = horizon }

    var now: Duration { state.withLock { $0.now } }
    var waits: [Duration] { state.withLock { $0.waits } }

    func sleep(_ duration: Duration) async throws {
        let past = state.withLock { state -> Bool in
            state.waits.append(duration)
            state.now += duration
            return state.now > horizon
        }
        await Task.yield()
        if past { throw CancellationError() }
    }

    var timing: PollTiming {
        PollTiming(now: { self.now }, sleep: { try await self.sleep($0) })
    }
}

@Suite("Polling a rate-limited API")
struct PollScheduleTests {
    @Test(arguments: [
        (PollSchedule.Outcome.succeeded, 2.0, 52.0...64.0),  // poll_every ±10% from the start, less the poll's time
        (.failed(consecutive: 1, retryAfter: nil), 2.0, 60.0...72.0),  // a failure waits poll_every from now
        (.failed(consecutive: 1, retryAfter: .seconds(90)), 2.0, 90.0...90.0),  // and the API's Retry-After when longer
        (.failed(consecutive: 2, retryAfter: nil), 2.0, 120.0...144.0),  // doubling while failures go on
        (.failed(consecutive: 9, retryAfter: nil), 2.0, 150.0...180.0),  // up to half of stale_after (300 s)
        // A Retry-After beyond the cap still wins.
        (.failed(consecutive: 9, retryAfter: .seconds(600)), 2.0, 600.0...600.0),
    ])
    func theNextPollWaitsAtLeastPollEveryAndRetryAfter(
        outcome: PollSchedule.Outcome, elapsed: Double, expected: ClosedRange<Double>
    ) {
        let schedule = PollSchedule(
            pollEvery: .seconds(60),
            maxBackoff: PollSchedule.maxBackoff(pollEvery: .seconds(60), staleAfter: .seconds(300)))
        var random = SeededRandom(seed: 42)
        for _ in 0..<50 {
            let wait = schedule.wait(after: outcome, elapsed: .seconds(elapsed), random: &random).timeInterval
            #expect(expected.contains(wait), "\(outcome): \(wait)")
        }
    }

    /// A simulator answering every request with 429 (Retry-After: 5 s) for a minute of virtual
    /// time: the poller (poll_every 10 s, with the client's own retries) never asks sooner than
    /// the Retry-After, and backs off.
    @Test func aRateLimitedAPIIsNotHammered() async throws {
        let harness = try await Harness.start()
        defer { Task { await harness.stop() } }
        try await harness.faults(#"{"rate_limit_every": 1, "retry_after": "5s"}"#)
        let time = VirtualTime(horizon: .seconds(60))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-poll-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStateStore(path: path)
        let engine = await Engine(
            rules: RuleSet([Rule(id: "offline", condition: .offlineFor(.seconds(600)), notify: ["chat"])]),
            defaults: RoutingDefaults(.init()),
            staleAfter: .seconds(300), state: try store.load(), store: store)
        let client = DevicesAPIClient(
            baseURL: harness.server.baseURL, apiKey: Secret("ws-key-SECRET-123"), http: harness.http,
            retry: RetryPolicy(maxAttempts: 3, maxTotal: .seconds(30)), sleep: { try await time.sleep($0) })
        await Pollers.poll(
            Configuration.Workspace(id: "acme", pollEvery: .seconds(10)), client: client, engine: engine,
            metrics: WorkerMetrics(),
            logger: Logger(label: "test"), staleAfter: .seconds(300), timing: time.timing)

        let stats = try await harness.http.send(HTTPRequestSpec(url: harness.server.baseURL + "/_sim/stats"))
        let requests = try #require(
            (try JSONSerialization.jsonObject(with: stats.body) as? [String: Any])?["requests"] as? Int)
        // Every wait between two requests honoured the Retry-After...
        let waits = time.waits
        #expect(requests >= 3, "the poller must have polled: \(requests) requests")
        #expect(waits.allSatisfy { $0 >= .seconds(5) }, "\(waits)")
        // ...and the polls backed off: a minute holds two or three polls of three attempts each,
        // where polling every 10 s would make six polls, and 0.1 s apart (the old behaviour) hundreds.
        #expect(requests <= 9, "\(requests) requests in a minute: \(waits)")
        let pollWaits = waits.filter { $0 > .seconds(5) }
        #expect(zip(pollWaits, pollWaits.dropFirst()).allSatisfy { $0 < $1 }, "the backoff must grow: \(pollWaits)")
        #expect(await engine.health["acme"]?.failure?.contains("429") == true)
    }
}
