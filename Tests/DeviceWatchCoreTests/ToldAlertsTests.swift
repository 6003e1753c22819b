import DeviceWatchCore
import Foundation
import Testing

@Suite("ToldAlerts")
struct ToldAlertsTests {
    static func key(_ device: String, rule: String = "offline") -> AlertKey {
        AlertKey(workspace: "acme", ruleID: rule, deviceID: device)
    }

    @Test func keepsEachAlertOnceInOrderAndFindsThem() {
        let keys = ["d9", "d1", "d5", "d1", "d3", "d9"].map { Self.key($0) }
        let told = ToldAlerts(keys)
        #expect(told.keys == ["d1", "d3", "d5", "d9"].map { Self.key($0) })
        #expect(told.count == 4)
        for device in ["d1", "d3", "d5", "d9"] { #expect(told.contains(Self.key(device))) }
        for device in ["d0", "d2", "d4", "d6", "zz"] { #expect(!told.contains(Self.key(device))) }
        #expect(!told.contains(Self.key("d1", rule: "other")))
        #expect(!ToldAlerts([]).contains(Self.key("d1")))
    }

    @Test func agreesWithASetOnRandomContents() {
        var generator = SplitMix64(seed: 20261201)
        for _ in 0..<50 {
            let keys = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                Self.key("d\(Int.random(in: 0...30, using: &generator))")
            }
            let told = ToldAlerts(keys)
            let set = Set(keys)
            #expect(told.count == set.count)
            for probe in 0...31 { #expect(told.contains(Self.key("d\(probe)")) == set.contains(Self.key("d\(probe)"))) }
            var subtracted = told
            let gone = keys.prefix(5)
            subtracted.subtract(gone)
            #expect(Set(subtracted) == set.subtracting(gone))
        }
    }

    @Test func readsWhatASetOfKeysWroteAndWritesAnArray() throws {
        // Groups persisted before were a Set<AlertKey>: a JSON array in any order, possibly unsorted.
        let old = try JSONEncoder().encode(Set(["d3", "d1", "d2"].map { Self.key($0) }))
        let told = try JSONDecoder().decode(ToldAlerts.self, from: old)
        #expect(told == ToldAlerts(["d1", "d2", "d3"].map { Self.key($0) }))
        let written = try JSONEncoder().encode(told)
        #expect(try JSONDecoder().decode([AlertKey].self, from: written) == told.keys)
    }
}

/// A seeded generator (SplitMix64): the same contents every run, so a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
