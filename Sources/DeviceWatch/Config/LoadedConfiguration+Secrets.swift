import DeviceWatchCore

extension LoadedConfiguration {
    /// Reads a configured secret; a relative file is read from the configuration's folder.
    public func secret(_ reference: Configuration.SecretReference) throws(SecretError) -> Secret {
        guard case .file(let path) = reference else { return try reference.resolve() }
        return try Configuration.SecretReference.file(resolve(path)).resolve()
    }
}

/// A workspace whose API key cannot be read: which one, from where, and why.
public struct WorkspaceKeyError: Error, Sendable, CustomStringConvertible {
    public var workspace: String
    public var source: Configuration.SecretReference
    public var problem: String

    public var description: String {
        "the API key of workspace \"\(workspace)\" cannot be read from the \(source): \(problem); set it, or give the workspace "
            + "its own \"api_key_env\" or \"api_key_file\" (keys belong to one workspace)"
    }
}

extension LoadedConfiguration {
    /// Every configured workspace's API key (its own, else `api`'s), read now.
    public func apiKeys() throws(WorkspaceKeyError) -> [String: Secret] {
        var keys: [String: Secret] = [:]
        for workspace in configuration.workspaces {
            let reference = configuration.apiKey(for: workspace)
            do {
                keys[workspace.id] = try secret(reference)
            } catch {
                throw WorkspaceKeyError(workspace: workspace.id, source: reference, problem: "\(error)")
            }
        }
        return keys
    }

    /// The workspaces whose API key cannot be read in this environment, for `check`.
    public func unreadableAPIKeys() -> [WorkspaceKeyError] {
        configuration.workspaces.compactMap { workspace in
            let reference = configuration.apiKey(for: workspace)
            do {
                _ = try secret(reference)
                return nil
            } catch {
                return WorkspaceKeyError(workspace: workspace.id, source: reference, problem: "\(error)")
            }
        }
    }

    /// The other secrets the worker reads at start (the database URL, the heartbeat URL) that
    /// cannot be read here, each in words: `check` warns of them, as the worker would refuse to start.
    public func unreadableStartSecrets() -> [String] {
        var needed: [(what: String, reference: Configuration.SecretReference)] = []
        if case .postgres(let reference, _) = configuration.state { needed.append(("the database URL", reference)) }
        if let heartbeat = configuration.heartbeat { needed.append(("the heartbeat URL", heartbeat.url)) }
        return needed.compactMap { what, reference in
            do {
                _ = try secret(reference)
                return nil
            } catch {
                return
                    "\(what) cannot be read from the \(reference) (\(error)); the worker will not start where that is so"
            }
        }
    }
}
