import DeviceWatchCore
import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import DeviceWatch

/// What several workers on one PostgreSQL database rely on of the store: workspace leases with
/// epochs that fence commits, claimed outbox rows, and rate limits shared through the database.
/// Expiry is driven by writing the lease or claim row as time would leave it (the database's
/// clock is the only clock), never by sleeping.
@Suite("PostgreSQL cluster store")
struct ClusterStoreTests {
    static let t0 = StoreContractTests.t0

    /// Two workers' stores on one new database.
    func twoStores() async throws -> (PostgresStateStore, PostgresStateStore) {
        let url = try await TestPostgres.shared.newDatabase()
        return (try await PostgresStateStore(url: Secret(url)), try await PostgresStateStore(url: Secret(url)))
    }

    /// Runs time forward past every lease (and claim) without waiting.
    func expireLeases(_ store: PostgresStateStore) async throws {
        try await store.client.query("UPDATE workspace_leases SET expires_at = 0")
    }

    func alertChanges(_ device: String, workspace: String) -> StateChanges {
        var alert = OpsServerTests.alert(device, name: device, workspace: workspace)
        alert.evaluatedAt = Self.t0
        var book = AlertBook()
        book.set(alert)
        var changes = StateChanges()
        changes.upsertAlerts = Selection([alert.key], from: book.alerts)
        return changes
    }

    @Test func leasesAreTakenOnceAndATakeOverRaisesTheEpochAndFencesTheOldOwnersCommit() async throws {
        let (a, b) = try await twoStores()
        defer {
            a.close()
            b.close()
        }
        let first = try await a.arrangeLeases(
            owner: "A", ttl: .seconds(30), keep: [:], take: ["w1", "w2", "w3"], limit: 2)
        #expect(first.held == ["w1": 1, "w2": 1])
        #expect(first.taken == ["w1": "", "w2": ""])
        // B finds w1 and w2 held; it takes the free one only.
        let second = try await b.arrangeLeases(
            owner: "B", ttl: .seconds(30), keep: [:], take: ["w1", "w2", "w3"], limit: 3)
        #expect(second.held == ["w3": 1])
        // A renews what it holds; a commit under its lease is written.
        let renewed = try await a.arrangeLeases(owner: "A", ttl: .seconds(30), keep: first.held, take: [], limit: 0)
        #expect(renewed.held == first.held && renewed.taken.isEmpty)
        let fenceA = WorkspaceFence(workspace: "w1", owner: "A", epoch: 1, ttl: .seconds(30))
        try await a.commit(alertChanges("cam-1", workspace: "w1"), at: Self.t0, fence: fenceA)

        // A pauses past its lease; B takes w1 over at epoch 2.
        try await expireLeases(a)
        let takeover = try await b.arrangeLeases(owner: "B", ttl: .seconds(30), keep: ["w3": 1], take: ["w1"], limit: 1)
        #expect(takeover.held == ["w1": 2, "w3": 2] || takeover.held == ["w1": 2, "w3": 1])
        #expect(takeover.taken == ["w1": "A"])
        // A wakes: its commit on epoch 1 is refused whole, and its renewal no longer holds w1.
        let refused = await #expect(throws: StateStoreError.self) {
            try await a.commit(self.alertChanges("cam-2", workspace: "w1"), at: Self.t0, fence: fenceA)
        }
        #expect(refused?.kind == .heldByAnother)
        #expect(refused?.description.contains("taken over by another worker") == true)
        let state = try await b.load(workspace: "w1")
        #expect(state.book.alerts.keys.map(\.deviceID) == ["cam-1"])
        // w1 is lost; w2 ran out too but nobody took it, so A still holds it at the same epoch.
        let lost = try await a.arrangeLeases(
            owner: "A", ttl: .seconds(30), keep: ["w1": 1, "w2": 1], take: [], limit: 0)
        #expect(lost.held == ["w2": 1])
        // B's commit under epoch 2 goes in.
        try await b.commit(
            alertChanges("cam-3", workspace: "w1"), at: Self.t0,
            fence: WorkspaceFence(workspace: "w1", owner: "B", epoch: 2, ttl: .seconds(30)))
        #expect(try await b.load(workspace: "w1").book.alerts.count == 2)
        let leases = try await b.leases()
        #expect(leases.first { $0.workspace == "w1" }?.owner == "B")
        #expect(leases.first { $0.workspace == "w1" }?.epoch == 2)
    }

    @Test func aReleasedLeaseIsFreeAtOnceAndLiveWorkersAreThoseSeenWithinTheTTL() async throws {
        let (a, b) = try await twoStores()
        defer {
            a.close()
            b.close()
        }
        #expect(try await a.heartbeat(worker: "A", ttl: .seconds(30)).map(\.id) == ["A"])
        #expect(try await b.heartbeat(worker: "B", ttl: .seconds(30)).map(\.id) == ["A", "B"])
        _ = try await a.arrangeLeases(owner: "A", ttl: .seconds(30), keep: [:], take: ["w1", "w2"], limit: 2)
        try await a.releaseLeases(owner: "A", workspaces: ["w2"])
        let taken = try await b.arrangeLeases(owner: "B", ttl: .seconds(30), keep: [:], take: ["w1", "w2"], limit: 2)
        #expect(taken.held == ["w2": 2])
        // A goes silent for longer than the TTL: it no longer counts as live.
        try await a.client.query("UPDATE workers SET last_seen = last_seen - 31 WHERE id = 'A'")
        #expect(try await b.heartbeat(worker: "B", ttl: .seconds(30)).map(\.id) == ["B"])
    }

    @Test func oneWorkerOfTheClusterSendsTheHeartbeatPerPeriod() async throws {
        let (a, b) = try await twoStores()
        defer {
            a.close()
            b.close()
        }
        #expect(try await a.takeHeartbeatTurn(every: .seconds(60)))
        #expect(try await b.takeHeartbeatTurn(every: .seconds(60)) == false)
        #expect(try await a.takeHeartbeatTurn(every: .seconds(60)) == false)
        // A period later (the row as time would leave it), the next to ask sends it.
        try await a.client.query("UPDATE heartbeat_turn SET sent_at = sent_at - 61")
        #expect(try await b.takeHeartbeatTurn(every: .seconds(60)))
        #expect(try await a.takeHeartbeatTurn(every: .seconds(60)) == false)
    }

    @Test func loadingOneWorkspaceReadsItsAlertsGroupsAndClockOnly() async throws {
        let (a, b) = try await twoStores()
        defer {
            a.close()
            b.close()
        }
        var changes = alertChanges("cam-1", workspace: "w1")
        changes.upsertClockOffsets = [
            ClockOffset(workspace: "w1", offset: .seconds(5), measuredAt: Self.t0),
            ClockOffset(workspace: "w2", offset: .seconds(9), measuredAt: Self.t0),
        ]
        try await a.commit(changes, at: Self.t0)
        try await a.commit(alertChanges("cam-9", workspace: "w2"), at: Self.t0)
        let routing = RoutingState(groups: [
            NotificationGroup(
                id: "hook:{workspace=\"w1\"}", receiver: "hook", labels: ["workspace": "w1"], createdAt: Self.t0,
                lastSentAt: nil, told: [], sequence: 1),
            NotificationGroup(
                id: "hook:{workspace=\"w2\"}", receiver: "hook", labels: ["workspace": "w2"], createdAt: Self.t0,
                lastSentAt: nil, told: [], sequence: 1),
        ])
        var groups = StateChanges()
        groups.upsertGroups = Selection(Array(routing.groups.keys), from: routing.groups)
        try await a.commit(groups, at: Self.t0)
        let one = try await b.load(workspace: "w1")
        #expect(one.book.alerts.keys.map(\.deviceID) == ["cam-1"])
        #expect(Array(one.routing.groups.keys) == ["hook:{workspace=\"w1\"}"])
        #expect(one.clockOffsets.map(\.workspace) == ["w1"])
        let all = try await b.load()
        #expect(all.book.alerts.count == 2 && all.routing.groups.count == 2)
    }

    @Test func aWorkerSeesAnotherWorkersNewNotificationsByTheOutboxsNewestRow() async throws {
        let (a, b) = try await twoStores()
        defer {
            a.close()
            b.close()
        }
        #expect(try await b.newestNotification() == 0)
        let contract = StoreContractTests()
        try await contract.enqueue(a, [contract.intent("g1-fire", group: "g1")])
        let first = try await b.newestNotification()
        #expect(first > 0)
        // Delivering it changes nothing there; a new one moves it on.
        try await a.record([DeliveryRecord(id: "g1-fire", kind: .sent)], at: Self.t0)
        #expect(try await b.newestNotification() == first)
        try await contract.enqueue(a, [contract.intent("g1-resolve", group: "g1")])
        #expect(try await b.newestNotification() > first)
    }

    @Test func claimedRowsAreEachWorkersOwnAndOrderHoldsPerGroupAcrossWorkers() async throws {
        let (a, b) = try await twoStores()
        defer {
            a.close()
            b.close()
        }
        a.claimOutbox(as: "A", for: .seconds(30))
        b.claimOutbox(as: "B", for: .seconds(30))
        let contract = StoreContractTests()
        try await contract.enqueue(
            a,
            [
                contract.intent("g1-fire", group: "g1"), contract.intent("g2-fire", group: "g2"),
                contract.intent("g1-resolve", group: "g1"), contract.intent("g2-resolve", group: "g2"),
            ])
        let later = Self.t0.addingTimeInterval(1)
        // A claims the head of each group; B finds nothing: the heads are A's, the rest wait for them.
        #expect(try await contract.due(a, at: later) == ["g1-fire", "g2-fire"])
        #expect(try await contract.due(b, at: later) == [])
        #expect(try await b.confirmClaim("g1-fire") == false)
        #expect(try await a.confirmClaim("g1-fire"))
        a.claimTimes.withLock { $0 = [:] }
        #expect(try await a.confirmClaim("g1-fire"), "confirmed by the database too")
        // A sends g1's firing: g1's resolve is claimable now, by B as well as by A.
        try await a.record([DeliveryRecord(id: "g1-fire", kind: .sent)], at: later)
        #expect(try await contract.due(b, at: later) == ["g1-resolve"])
        // A stalls past its claim on g2's firing: B takes it; A's late outcome is not recorded.
        try await a.client.query("UPDATE outbox SET claim_until = 0 WHERE id = 'g2-fire'")
        // ...as long ago on A's own clock (a fresh claim is trusted without a round trip).
        a.claimTimes.withLock { $0 = [:] }
        // (B's lane holds g1 while g1's resolve is in flight.)
        #expect(try await contract.due(b, at: later, excluding: ["g1"]) == ["g2-fire"])
        #expect(try await a.confirmClaim("g2-fire") == false)
        try await a.record([DeliveryRecord(id: "g2-fire", kind: .sent)], at: later)
        #expect(a.lostClaims.load(ordering: .relaxed) == 1)
        let pending = try await a.notifications(state: .pending, limit: 10).map(\.intent.id).sorted()
        #expect(pending == ["g1-resolve", "g2-fire", "g2-resolve"])
        // B's outcome is recorded; a retry gives the claim up for anyone once due.
        try await b.record(
            [DeliveryRecord(id: "g2-fire", kind: .retry(at: later.addingTimeInterval(5), error: "HTTP 503"))],
            at: later)
        #expect(try await contract.due(a, at: later.addingTimeInterval(6)) == ["g2-fire"])
    }

    @Test func aReceiversRateLimitAndPauseAreSharedByEveryWorker() async throws {
        let (a, b) = try await twoStores()
        defer {
            a.close()
            b.close()
        }
        let limit = Configuration.RateLimit(perSecond: 1, burst: 3)
        // The bucket runs on the database's clock: what it says depends on the time these
        // statements took (seconds, on a loaded CI machine), so that is measured, not assumed.
        let started = ContinuousClock.now
        #expect(try await a.takeTokens(receiver: "slack", limit: limit, count: 2) == .granted(2))
        #expect(try await b.takeTokens(receiver: "slack", limit: limit, count: 2) == .granted(1))
        // The burst is spent by the two workers together: the next waits what is left of a
        // second since then.
        let third = try await a.takeTokens(receiver: "slack", limit: limit, count: 1)
        let took = ContinuousClock.now - started
        let elapsed = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
        switch third {
        case .wait(let wait): #expect(wait <= 1.0 && wait >= 1.0 - elapsed - 0.05, "waits \(wait) after \(elapsed) s")
        case .granted: #expect(elapsed >= 0.95, "a token past the burst was granted after only \(elapsed) s")
        }
        // Another receiver has a bucket of its own.
        #expect(try await b.takeTokens(receiver: "pager", limit: limit, count: 1) == .granted(1))
        // A 429 seen by one worker holds the other too.
        try await a.pause(receiver: "pager", seconds: 30)
        guard case .wait(let paused) = try await b.takeTokens(receiver: "pager", limit: limit, count: 1) else {
            Issue.record("a paused receiver granted a token")
            return
        }
        #expect(paused > 29 && paused <= 30)
    }
}
