import DeviceAPISimulator
import DeviceWatch
import DeviceWatchCore
import Foundation

/// A rule test's `fleet`: devices in the simulator's scenario form, on the test's clock.
extension RuleTestLoader {
    /// `{"count": 500, "id_prefix": "cam", "device": {definition}}`: many devices alike, ids `cam-001`...
    static func parseFleet(_ reader: NodeReader, origin: Date, file: String) -> [SimulatedDevice] {
        guard let fields = reader.object(known: ["count", "id_prefix", "device"]) else { return [] }
        guard let count = fields["count"]?.number(), count >= 1, count <= 100_000, count == count.rounded(),
            let prefix = fields["id_prefix"]?.string(), let template = fields["device"]
        else {
            reader.report(
                "a fleet needs \"count\" (1 to 100000), \"id_prefix\" and \"device\" (a definition without an id)")
            return []
        }
        var node = template.node
        if case .object(var members) = node.value {
            members.removeAll { $0.key == "id" }
            members.append(
                .init(
                    key: "id", value: JSONNode(value: .string("x"), line: node.line, column: node.column),
                    keyLine: node.line, keyColumn: node.column))
            node.value = .object(members)
        }
        let definition: SimulatedDevice
        do {
            definition = try SimulatedDevice.parse(node.plainValue, source: file, origin: origin)
        } catch let error as ScenarioError {
            template.report("not a device definition: \(error.path.isEmpty ? "" : error.path + ": ")\(error.problem)")
            return []
        } catch {
            template.report("not a device definition: \(error)")
            return []
        }
        let width = String(Int(count)).count
        return (1...Int(count)).map { index in
            var device = definition
            let number = String(index)
            device.id = "\(prefix)-" + String(repeating: "0", count: max(0, width - number.count)) + number
            device.name = device.name.map { "\($0) \(index)" } ?? device.id
            return device
        }
    }
}
