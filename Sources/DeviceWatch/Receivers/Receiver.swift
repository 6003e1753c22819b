import CurlHTTP
import DeviceWatchCore
import Foundation

/// What a receiver needs to turn a notification into text: the rules (for templates) and where
/// the status page is, if anywhere.
public struct RenderContext: Sendable {
    public var rules: RuleSet
    /// The status page's URL, for links; nil when there is none.
    public var externalURL: String?

    public init(rules: RuleSet, externalURL: String? = nil) {
        self.rules = rules
        self.externalURL = externalURL
    }
}

/// How one notification is delivered.
public enum Delivery: Sendable {
    /// One HTTP request; its answer decides success, retry or failure.
    case http(HTTPRequestSpec)
    /// Requests sent in order (PagerDuty: one event per alert); a failure retries them all later,
    /// which is safe because each is idempotent at the receiver (same `dedup_key`).
    case httpSequence([HTTPRequestSpec])
    /// One message over SMTP (email).
    case mail(MailRequestSpec)
    /// Written locally (console, file); done when the closure returns.
    case local(@Sendable () throws -> Void)
}

/// A destination for notifications.
public protocol Receiver: Sendable {
    var name: String { get }
    /// Builds the delivery of one notification at `now` (signatures carry the time).
    func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery
    /// Sends per second and burst, for the dispatcher's token bucket.
    var rateLimit: Configuration.RateLimit { get }
    /// Its secrets (URL, keys), scrubbed from every error and log line about it.
    var secrets: [Secret] { get }
    /// Reads the receiver's answer (Discord, for one, says when to retry in its body).
    func interpret(_ response: HTTPResponseData) -> DeliveryOutcome
    /// Seconds the receiver asks to be left alone after this answer, for every notification (a
    /// rate-limit bucket that is empty); nil when it says nothing.
    func pause(after response: HTTPResponseData) -> Double?
    /// What a transfer that got no answer means: retried when trying again may help.
    func outcome(of error: CurlHTTPError) -> DeliveryOutcome
}

extension Receiver {
    public var secrets: [Secret] { [] }

    public func pause(after response: HTTPResponseData) -> Double? { nil }

    public func outcome(of error: CurlHTTPError) -> DeliveryOutcome {
        // The kind and libcurl's detail only: a webhook URL's path can be its secret.
        let reason = scrub("\(error.kind.rawValue): \(error.detail)")
        return error.isRetryable ? .retry(reason: reason, after: nil) : .permanentFailure(reason)
    }

    public func interpret(_ response: HTTPResponseData) -> DeliveryOutcome {
        switch DeliveryOutcome.classify(response) {
        case .retry(let reason, let after): .retry(reason: scrub(reason), after: after)
        case .permanentFailure(let reason): .permanentFailure(scrub(reason))
        case .delivered: .delivered
        }
    }

    /// A JSON POST to the receiver's webhook URL, with the usual timeouts.
    func jsonPost(to url: Secret, body: Data) -> Delivery {
        .http(
            HTTPRequestSpec(
                method: "POST", url: url.exposedValue,
                headers: ["Content-Type": "application/json", "User-Agent": "devicewatch"], body: body,
                connectTimeout: .seconds(10), totalTimeout: .seconds(30)))
    }

    /// `text` with every secret of this receiver replaced.
    public func scrub(_ text: String) -> String {
        secrets.reduce(text) { $1.scrub($0) }
    }
}

/// What the dispatcher does after an answer.
public enum DeliveryOutcome: Sendable, Equatable {
    case delivered
    /// Try again, no sooner than `after` when the receiver said so.
    case retry(reason: String, after: Duration?)
    /// Never retried: the receiver refused it (4xx other than 408/429).
    case permanentFailure(String)

    /// The usual reading of an HTTP answer: 2xx delivered; 408, 429 and 5xx retried (honouring
    /// `Retry-After`); other statuses permanent.
    public static func classify(_ response: HTTPResponseData) -> DeliveryOutcome {
        if (200..<300).contains(response.status) { return .delivered }
        guard RetryableStatus.contains(response.status) else {
            return .permanentFailure("HTTP \(response.status)\(snippet(response.body))")
        }
        let after = response.headers["Retry-After"].flatMap(parseRetryAfter)
        return .retry(reason: "HTTP \(response.status)\(snippet(response.body))", after: after)
    }

    /// The start of a receiver's answer, for logs and dead letters.
    static func snippet(_ body: Data) -> String {
        guard !body.isEmpty else { return "" }
        let text = String(decoding: body.prefix(200), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
        return ": " + text + (body.count > 200 ? "…" : "")
    }
}

/// How the receivers encode what they post: keys sorted (the same notification gives the same
/// bytes, so tests and signatures are stable) and slashes as written (links stay readable).
enum ReceiverJSON {
    /// An encoder set up so, for a receiver that encodes many bodies in one delivery (one event
    /// per alert): made once per delivery, not once per body.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func encode(_ value: some Encodable) throws -> Data { try encoder().encode(value) }
}
