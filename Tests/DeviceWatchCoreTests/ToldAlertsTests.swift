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
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let keys = (0..<Int.random(in: 0...40, using: &generator)).map { _ in Self.key("d\(Int.random(in: 0...30, using: &generator))") }
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
