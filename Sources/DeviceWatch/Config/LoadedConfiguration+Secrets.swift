import DeviceWatchCore

extension LoadedConfiguration {
    /// Where a configured secret comes from, with files resolved against the configuration's folder.
    public func source(of reference: Configuration.SecretReference) -> SecretSource? {
        switch reference {
        case .environment(let name): .environment(name)
        case .file(let path): .file(resolve(path))
        case .inline: nil
        }
    }

    /// Reads a configured secret.
    public func secret(_ reference: Configuration.SecretReference) throws(SecretError) -> Secret {
        if case .inline(let value) = reference { return Secret(value) }
        return try source(of: reference)!.resolve()
    }
}
