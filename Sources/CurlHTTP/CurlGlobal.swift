import CCurl

/// Whole milliseconds, as libcurl's timeouts take them.
extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

/// `curl_global_init` exactly once per process, before the first handle.
enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return true
    }()

    static func ensureInitialized() {
        _ = initialized
    }
}
