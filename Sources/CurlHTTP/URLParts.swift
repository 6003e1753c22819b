import Foundation
import Synchronization

/// What a transfer keeps of its URL for errors: the redacted form, and the parts that form drops
/// (user info, query, fragment), scrubbed from libcurl's messages.
///
/// Parsed once per distinct URL (`URLComponents` twice a transfer was a few per cent of a
/// delivery's CPU, and a receiver sends to the same URL every time); the cache is small and is
/// emptied when full, so a client that requests many URLs holds at most `capacity` of them.
struct URLParts: Sendable {
    let redacted: String
    let secrets: [String]

    private static let capacity = 256
    private static let cache = Mutex<[String: URLParts]>([:])

    static func of(_ url: String) -> URLParts {
        if let known = cache.withLock({ $0[url] }) { return known }
        let parts = URLParts(redacted: redactURL(url), secrets: secretParts(of: url))
        cache.withLock { cache in
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[url] = parts
        }
        return parts
    }

    /// The parts of a URL that the redacted form drops: user info, query and fragment.
    private static func secretParts(of url: String) -> [String] {
        guard let components = URLComponents(string: url) else { return [url] }
        return [
            components.percentEncodedUser, components.percentEncodedPassword, components.percentEncodedQuery,
            components.percentEncodedFragment, components.user, components.password, components.query,
        ]
        .compactMap { $0 }
    }
}
