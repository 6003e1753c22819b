import Testing

@testable import DeviceWatch

/// How workspaces spread across the live workers of a cluster.
@Suite("Lease share")
struct LeaseShareTests {
    let nine = (1...9).map { "w\($0)" }

    @Test func aLoneWorkerTakesEveryWorkspace() {
        let share = LeaseShare(configured: nine, held: [:], liveWorkers: 1)
        #expect(share.takeLimit == 9 && share.candidates == nine.sorted() && share.release.isEmpty)
    }

    @Test func aWorkerHoldingEverythingGivesUpAllButItsShareWhenTwoMoreJoin() {
        let held = Dictionary(uniqueKeysWithValues: nine.map { ($0, Int64(4)) })
        let share = LeaseShare(configured: nine, held: held, liveWorkers: 3)
        #expect(share.keep == ["w1": 4, "w2": 4, "w3": 4])
        #expect(share.release == ["w4", "w5", "w6", "w7", "w8", "w9"])
        #expect(share.takeLimit == 0)
    }

    @Test func aShareRoundsUpSoEveryWorkspaceHasAPlace() {
        // 10 workspaces, 3 workers: shares of 4, 4 and 2 cover them all.
        let ten = (1...10).map { "w\($0)" }
        let share = LeaseShare(configured: ten, held: ["w1": 1, "w2": 1], liveWorkers: 3)
        #expect(share.takeLimit == 2)
        #expect(!share.candidates.contains("w1") && share.candidates.count == 8)
    }

    @Test func aWorkspaceNoLongerConfiguredIsGivenUpAndNothingMovesAtItsShare() {
        let share = LeaseShare(configured: ["w1", "w2"], held: ["w1": 2, "gone": 7], liveWorkers: 2)
        #expect(share.release == ["gone"])
        #expect(share.keep == ["w1": 2] && share.takeLimit == 0)
        #expect(LeaseShare(configured: [], held: [:], liveWorkers: 0).takeLimit == 0)
    }
}
