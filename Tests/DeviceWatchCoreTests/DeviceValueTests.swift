import DeviceWatchCore
import Foundation
import Testing

/// A device's fields live in a shared box; it must still behave as a value.
@Suite("Device as a value")
struct DeviceValueTests {
    @Test func aWrittenCopyLeavesTheOriginalAsItWas() {
        let original = Device(id: "cam-1", name: "line-3", status: .online, tags: ["production"])
        var copy = original
        copy.name = "renamed"
        copy.tags.append("site-b")
        copy.status = .offline
        #expect(original.name == "line-3")
        #expect(original.tags == ["production"])
        #expect(original.status == .online)
        #expect(copy.name == "renamed")
        #expect(copy.tags == ["production", "site-b"])
        #expect(copy != original)
    }

    @Test func devicesWithEqualFieldsAreEqualWhateverTheirBox() {
        let first = Device(id: "cam-1", hostname: "jetson-01", tags: ["a"])
        var second = Device(id: "cam-1")
        #expect(first != second)
        second.hostname = "jetson-01"
        second.tags = ["a"]
        #expect(first == second)
        var third = first
        third.id = "cam-1"
        #expect(third == first)
    }

    @Test func copiesSentToOtherTasksStayIndependent() async {
        let shared = Device(id: "cam-1", name: "start")
        let names = await withTaskGroup(of: String?.self) { group in
            for index in 0..<8 {
                group.addTask {
                    var mine = shared
                    mine.name = "task-\(index)"
                    return mine.name
                }
            }
            return await group.reduce(into: Set<String>()) { $0.insert($1 ?? "") }
        }
        #expect(names.count == 8)
        #expect(shared.name == "start")
    }
}
