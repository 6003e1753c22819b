import CurlHTTP
import DeviceWatchCore

/// A Devices API call that failed, with what a person can do about it.
public struct DevicesAPIError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// 401: the key is missing, mistyped or revoked.
        case unauthorized
        /// 403 on the list: a device-scoped key, a key without `device:read`, or another workspace's key.
        case forbiddenList
        /// 403 on a get: the key is bound to another device (or lacks `device:read`).
        case forbiddenDevice
        /// 404 with the error type `GraphMethodException`: the key is valid for the workspace but
        /// lacks the `device:read` scope. An authorization problem, never "not found".
        case missingScope
        /// 404: no such device in this workspace (or no such workspace).
        case notFound
        /// 400: the request was malformed.
        case badRequest
        /// 429, still after retries.
        case rateLimited
        /// 5xx, still after retries.
        case serverError(Int)
        /// Any other status.
        case unexpectedStatus(Int)
        /// No HTTP answer: DNS, connect, TLS, timeout, connection lost.
        case transport(CurlHTTPError.Kind)
        /// A 200 whose body could not be read (not JSON, truncated, wrong shape).
        case invalidBody
    }

    public var kind: Kind
    public var workspace: String
    public var deviceID: String?
    /// Attempts made, retries included.
    public var attempts: Int
    /// Extra detail: the transport error or the body problem; scrubbed of the key.
    public var detail: String
    /// What the service said (its error body's `message`), scrubbed of the key and cut at 1 KB.
    public var serviceMessage: String?
    /// The last answer's `Retry-After`: no request should go sooner.
    public var retryAfter: Duration?

    public init(
        kind: Kind, workspace: String, deviceID: String? = nil, attempts: Int, detail: String,
        serviceMessage: String? = nil
    ) {
        self.kind = kind
        self.workspace = workspace
        self.deviceID = deviceID
        self.attempts = attempts
        self.detail = detail
        self.serviceMessage = serviceMessage
    }

    /// Whether a later poll may succeed without anyone changing anything.
    public var isRetryable: Bool {
        switch kind {
        case .rateLimited, .serverError, .invalidBody: true
        case .transport(let transport): transport.isTransient
        case .unauthorized, .forbiddenList, .forbiddenDevice, .missingScope, .notFound, .badRequest, .unexpectedStatus:
            false
        }
    }

    /// Whether the key, not the service, is at fault.
    public var isAuthenticationProblem: Bool {
        switch kind {
        case .unauthorized, .forbiddenList, .forbiddenDevice, .missingScope: true
        default: false
        }
    }

    public var description: String {
        guard let serviceMessage, !serviceMessage.isEmpty else { return explanation }
        return explanation + "; the API said: \"\(serviceMessage)\""
    }

    /// What went wrong and what to do, in devicewatch's words.
    private var explanation: String {
        let target = deviceID.map { "device \"\($0)\" in workspace \"\(workspace)\"" } ?? "workspace \"\(workspace)\""
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        let suffix = detail.isEmpty ? "" : " (\(detail))"
        switch kind {
        case .unauthorized:
            return "the API key was rejected (401) for \(target): it is missing, mistyped or revoked; "
                + "set ROBOFLOW_API_KEY or --api-key-file to a valid workspace key"
        case .forbiddenList:
            return "the API key may not list devices of \(target) (403): it is device-scoped, lacks the device:read "
                + "scope, or belongs to another workspace; use a workspace API key with device:read"
        case .forbiddenDevice:
            return "the API key may not read \(target) (403): it is bound to another device or lacks device:read; "
                + "use that device's key or a workspace key with device:read"
        case .missingScope:
            return "the API key is valid for \(target) but lacks the device:read scope (404 GraphMethodException); "
                + "add the device:read scope to the key in the Roboflow app, or use a workspace key that has it"
        case .notFound:
            return deviceID == nil
                ? "workspace \"\(workspace)\" was not found (404): check the workspace id (its URL slug) and the API URL"
                : "\(target) was not found (404): check the id with `devicewatch devices list`"
        case .badRequest:
            return "the Devices API refused the request for \(target) as malformed (400)\(suffix)"
        case .rateLimited:
            return "the Devices API kept rate-limiting requests for \(target) (429)\(tries); poll less often"
        case .serverError(let status):
            return "the Devices API failed for \(target) (HTTP \(status))\(tries); it may be down, try again later"
        case .unexpectedStatus(let status):
            return "the Devices API answered HTTP \(status) for \(target)\(suffix)"
        case .transport:
            return "could not reach the Devices API for \(target)\(tries): \(detail)"
        case .invalidBody:
            return "the Devices API's answer for \(target) could not be read\(tries): \(detail)"
        }
    }
}
