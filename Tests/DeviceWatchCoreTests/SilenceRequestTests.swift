import DeviceWatchCore
import Foundation
import Testing

@Suite("Silence.Request")
struct SilenceRequestTests {
    let now = Timestamp.parse("2026-11-28T12:00:00Z")!

    @Test func aGoodRequestMakesASilenceStartingNowForTheDuration() throws {
        let request = Silence.Request(
            matchers: ["rule=production-offline", "tag=site-*"], duration: "2h", comment: "maintenance", author: "ana")
        let silence = try request.silence(id: "abc", now: now).get()
        #expect(silence.matchers.map(\.description) == ["rule=production-offline", "tag=site-*"])
        #expect(silence.startsAt == now)
        #expect(silence.endsAt == now.addingTimeInterval(7200))
        #expect(silence.author == "ana" && silence.comment == "maintenance" && silence.id == "abc")
    }

    @Test func aGivenStartIsKept() throws {
        let request = Silence.Request(
            matchers: ["device=cam-1"], duration: "30m", comment: "c", author: "a", startsAt: "2026-11-29T08:00:00Z")
        let silence = try request.silence(id: "x", now: now).get()
        #expect(silence.startsAt == Timestamp.parse("2026-11-29T08:00:00Z"))
        #expect(!silence.isActive(at: now))
    }

    @Test func everyProblemIsReportedAtOnce() {
        let request = Silence.Request(
            matchers: ["rules=x", "nothing"], duration: "0s", comment: " ", author: "a", startsAt: "tomorrow")
        guard case .failure(let error) = request.silence(id: "x", now: now) else {
            Issue.record("a bad request made a silence")
            return
        }
        #expect(error.problems.count == 5)
        #expect(error.problems[0].contains(#"did you mean "rule"?"#))
        #expect(error.problems[1].contains("expected NAME=PATTERN"))
        #expect(error.problems.contains { $0.contains("duration") })
        #expect(error.problems.contains { $0.contains("ISO-8601") })
        #expect(error.problems.contains { $0.contains("comment must say why") })
    }

    @Test func noMatchersIsAProblem() {
        #expect(
            Silence.Request(matchers: [], duration: "1h", comment: "c", author: "a").problems.first?.contains(
                "at least one matcher") == true)
    }
}

@Suite("FleetCounts")
struct FleetCountsTests {
    @Test func devicesAreCountedByStatus() {
        let devices = [
            Device(id: "a", status: .online), Device(id: "b", status: .online), Device(id: "c", status: .offline),
            Device(id: "d", status: .unknown),
            Device(id: "e", status: .other("rebooting")), Device(id: "f"),
        ]
        let counts = FleetCounts(devices)
        #expect(counts.online == 2 && counts.offline == 1 && counts.unknown == 1 && counts.other == 2)
        #expect(counts.total == 6)
        #expect(counts.byStatus.map(\.status) == ["online", "offline", "unknown", "other"])
    }
}
