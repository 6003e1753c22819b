import DeviceWatchCore
import Foundation

/// What the simulator serves: workspaces with keys and devices, and the faults to inject.
public struct Scenario: Sendable {
    /// An API key and what it may do.
    public struct APIKey: Sendable, Equatable {
        public var key: String
        /// nil: a legacy key with every scope.
        public var scopes: [String]?
        /// A device-scoped key: only this device's own get.
        public var device: String?
    }

    public struct Workspace: Sendable {
        public var apiKeys: [APIKey]
        /// Devices in list order.
        public var devices: [SimulatedDevice]

        public init(apiKeys: [APIKey], devices: [SimulatedDevice]) {
            self.apiKeys = apiKeys
            self.devices = devices
        }
    }

    /// The clock's start; nil means the real time when the simulator starts.
    public var start: Date?
    public var workspaces: [String: Workspace]
    public var faults = Faults()

    /// Reads a scenario file.
    /// - Parameters:
    ///   - now: the real time, used when the file has no `start`.
    ///   - seed: seeds the `generate` fleets.
    /// - Throws: ``ScenarioError`` naming the file, JSON path and problem.
    public static func load(contentsOf path: String, now: Date, seed: UInt64 = 1) throws -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioError(
                source: path, path: "", problem: "cannot read the file (does it exist and is it readable?)")
        }
        return try parse(data, source: path, now: now, seed: seed)
    }

    /// Reads a scenario from JSON; `source` names it in errors.
    public static func parse(_ data: Data, source: String, now: Date, seed: UInt64 = 1) throws -> Scenario {
        let root = try JSONCursor.parse(data, source: source)
        let fields = try root.object(allowing: ["$schema", "start", "workspaces", "faults"])
        let start = try fields["start"].flatMap { $0.isNull ? nil : try $0.time(relativeTo: now) }
        let origin = start ?? now
        guard let workspacesCursor = fields["workspaces"] else { throw root.fail("a scenario needs \"workspaces\"") }
        var workspaces: [String: Workspace] = [:]
        for (name, cursor) in try workspacesCursor.members() {
            guard !name.isEmpty, !name.contains("/") else {
                throw cursor.fail("a workspace id must be a non-empty URL slug")
            }
            workspaces[name] = try workspace(cursor, origin: origin, seed: seed)
        }
        let faults = try fields["faults"].map(Faults.init) ?? Faults()
        return Scenario(start: start, workspaces: workspaces, faults: faults)
    }

    private static func workspace(_ cursor: JSONCursor, origin: Date, seed: UInt64) throws -> Workspace {
        let fields = try cursor.object(allowing: ["api_keys", "devices", "generate"])
        var keys: [APIKey] = []
        for keyCursor in try fields["api_keys"]?.array() ?? [] {
            let parts = try keyCursor.object(allowing: ["key", "scopes", "device"])
            guard let key = try parts["key"]?.string(), !key.isEmpty else {
                throw keyCursor.fail("an API key needs a non-empty \"key\"")
            }
            keys.append(
                APIKey(
                    key: key, scopes: try parts["scopes"].flatMap { $0.isNull ? nil : try $0.strings() },
                    device: try parts["device"]?.optionalString()))
        }
        var devices: [SimulatedDevice] = []
        var seen: Set<String> = []
        for deviceCursor in try fields["devices"]?.array() ?? [] {
            let device = try SimulatedDevice(deviceCursor, origin: origin)
            guard seen.insert(device.id).inserted else {
                throw deviceCursor.fail("duplicate device id \"\(device.id)\"")
            }
            devices.append(device)
        }
        if let generate = fields["generate"] {
            for device in try FleetGenerator(generate).devices(start: origin, seed: seed) {
                guard seen.insert(device.id).inserted else {
                    throw generate.fail(
                        "generated id \"\(device.id)\" collides with a listed device; change \"prefix\"")
                }
                devices.append(device)
            }
        }
        return Workspace(apiKeys: keys, devices: devices)
    }
}
