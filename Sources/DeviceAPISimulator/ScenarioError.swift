/// A scenario (file or admin request) that cannot be used: where, at which JSON path, and what is wrong.
public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    /// The file, or a description of the source such as `PUT /_sim/faults`.
    public var source: String
    /// The JSON path of the offending value, e.g. `workspaces.acme.devices[1].online[0][1]`.
    public var path: String
    public var problem: String

    public var description: String {
        path.isEmpty ? "\(source): \(problem)" : "\(source): \(path): \(problem)"
    }
}
