import CurlHTTP
import DeviceWatchCore
import Foundation

/// The devices of one list call and the API's clock when it answered.
public struct DeviceListResult: Sendable {
    public var devices: [Device]
    public var warnings: [DeviceDecodeWarning]
    public var skipped: [SkippedDevice]
    /// The response's `Date` header: the API's clock, used as evaluation time.
    public var apiDate: Date?
    /// The raw body, for callers that show the API's own objects.
    public var body: Data
    public var attempts: Int
}

/// One device from a get call and the API's clock when it answered.
public struct DeviceGetResult: Sendable {
    public var device: Device
    public var warnings: [DeviceDecodeWarning]
    public var apiDate: Date?
    public var body: Data
    public var attempts: Int
}

/// The client of the Deployment Manager Devices API: list and get, with retries.
public struct DevicesAPIClient: Sendable {
    public static let defaultBaseURL = "https://api.roboflow.com"

    public var baseURL: String
    public var apiKey: Secret
    public var retry: RetryPolicy
    public var connectTimeout: Duration
    /// Per attempt.
    public var requestTimeout: Duration
    private let http: CurlHTTPClient
    private let sleep: @Sendable (Duration) async throws -> Void

    /// - Parameters:
    ///   - sleep: waits between retries; injectable so tests need not wait.
    public init(
        baseURL: String = DevicesAPIClient.defaultBaseURL, apiKey: Secret, http: CurlHTTPClient,
        retry: RetryPolicy = RetryPolicy(), connectTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(60),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.apiKey = apiKey
        self.http = http
        self.retry = retry
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.sleep = sleep
    }

    /// `GET /{workspace}/devices/v2`: every device of the workspace.
    public func list(workspace: String) async throws(DevicesAPIError) -> DeviceListResult {
        let (response, attempts) = try await fetch(
            path: "/\(segment(workspace))/devices/v2", workspace: workspace, deviceID: nil)
        do {
            let decoded = try DeviceListDecoder.decodeList(response.body)
            return DeviceListResult(
                devices: decoded.devices, warnings: decoded.warnings, skipped: decoded.skipped,
                apiDate: response.headers["Date"].flatMap(HTTPDate.parse), body: response.body, attempts: attempts)
        } catch {
            throw DevicesAPIError(
                kind: .invalidBody, workspace: workspace, attempts: attempts, detail: apiKey.scrub(error.description))
        }
    }

    /// `GET /{workspace}/devices/v2/{deviceId}`: one device.
    public func get(workspace: String, deviceID: String) async throws(DevicesAPIError) -> DeviceGetResult {
        let path = "/\(segment(workspace))/devices/v2/\(segment(deviceID))"
        let (response, attempts) = try await fetch(path: path, workspace: workspace, deviceID: deviceID)
        do {
            let (device, warnings) = try DeviceListDecoder.decodeDevice(response.body)
            return DeviceGetResult(
                device: device, warnings: warnings, apiDate: response.headers["Date"].flatMap(HTTPDate.parse),
                body: response.body, attempts: attempts)
        } catch {
            throw DevicesAPIError(
                kind: .invalidBody, workspace: workspace, deviceID: deviceID, attempts: attempts,
                detail: apiKey.scrub(error.description))
        }
    }

    /// One call with retries: 429, 5xx, retryable transport errors and unreadable 200 bodies are tried
    /// again with backoff and full jitter, honouring `Retry-After`, within the policy's bounds.
    private func fetch(path: String, workspace: String, deviceID: String?) async throws(DevicesAPIError) -> (
        HTTPResponseData, Int
    ) {
        let request = HTTPRequestSpec(
            url: baseURL + path,
            headers: [
                "Authorization": "Bearer \(apiKey.exposedValue)", "Accept": "application/json",
                "User-Agent": "devicewatch",
            ],
            connectTimeout: connectTimeout, totalTimeout: requestTimeout)
        let began = ContinuousClock.now
        // Time spent waiting between attempts, counted even when `sleep` is a test's virtual one.
        var slept = Duration.zero
        var random = SystemRandomNumberGenerator()
        var attempt = 0
        while true {
            attempt += 1
            var failure: DevicesAPIError
            var retryAfter: Duration?
            do {
                let response = try await http.send(request)
                if response.status == 200 {
                    if isReadable(response.body, list: deviceID == nil) { return (response, attempt) }
                    failure = DevicesAPIError(
                        kind: .invalidBody, workspace: workspace, deviceID: deviceID, attempts: attempt,
                        detail: "the body is not the JSON the API sends")
                } else {
                    failure = error(
                        status: response.status, body: response.body, workspace: workspace, deviceID: deviceID,
                        attempts: attempt)
                    retryAfter = response.headers["Retry-After"].flatMap(parseRetryAfter)
                }
            } catch {
                if error.kind == .cancelled {
                    throw DevicesAPIError(
                        kind: .transport(.cancelled), workspace: workspace, deviceID: deviceID,
                        attempts: attempt, detail: "cancelled")
                }
                failure = DevicesAPIError(
                    kind: .transport(error.kind), workspace: workspace, deviceID: deviceID,
                    attempts: attempt, detail: apiKey.scrub(error.description))
            }
            failure.retryAfter = retryAfter
            guard failure.isRetryable, attempt < retry.maxAttempts else { throw failure }
            let wait = retry.delay(beforeRetry: attempt, retryAfter: retryAfter, random: &random)
            guard max(began.duration(to: .now), slept) + wait <= retry.maxTotal else { throw failure }
            do {
                try await sleep(wait)
                slept += wait
            } catch {
                throw failure
            }
        }
    }

    /// A cheap check that a 200 body is a complete JSON object or array, so a truncated or
    /// garbled answer is retried rather than decoded. The full decode happens once, after.
    private func isReadable(_ body: Data, list: Bool) -> Bool {
        guard let first = body.first(where: { !$0.isJSONWhitespace }),
            let last = body.last(where: { !$0.isJSONWhitespace })
        else { return false }
        return (first == UInt8(ascii: "{") && last == UInt8(ascii: "}"))
            || (list && first == UInt8(ascii: "[") && last == UInt8(ascii: "]"))
    }

    private func error(status: Int, body: Data, workspace: String, deviceID: String?, attempts: Int) -> DevicesAPIError
    {
        let said = APIErrorBody(body)
        let kind: DevicesAPIError.Kind =
            switch status {
            case 400: .badRequest
            case 401: .unauthorized
            case 403: deviceID == nil ? .forbiddenList : .forbiddenDevice
            // The key is valid for the workspace but lacks the scope (the official client reads it so).
            case 404 where said.type == "GraphMethodException": .missingScope
            case 404: .notFound
            case 429: .rateLimited
            // Retried as the receivers' answers are (one table for both): 408 and 5xx.
            case _ where RetryableStatus.contains(status): .serverError(status)
            default: .unexpectedStatus(status)
            }
        return DevicesAPIError(
            kind: kind, workspace: workspace, deviceID: deviceID, attempts: attempts, detail: "",
            serviceMessage: said.message.map { apiKey.scrub($0) })
    }

    private func segment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#;")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// An error answer's body as the Devices API writes it, `{"error": {"message": "...", "type": "..."}}`
/// or `{"error": "..."}` (as the official Python client reads it), or any text: the message made
/// inert and cut at 1 KB (a 500 can carry a page of HTML), and the type when given.
struct APIErrorBody {
    static let messageLimit = TextLimit(1024, bytes: 1024)

    var message: String?
    var type: String?

    init(_ body: Data) {
        guard !body.isEmpty else { return }
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let error = object["error"] as? [String: Any] {
                message = error["message"] as? String
                type = error["type"] as? String
            } else if let error = object["error"] as? String {
                message = error
            } else if let text = object["message"] as? String {
                message = text
            }
        } else {
            message = String(decoding: body.prefix(4096), as: UTF8.self)
        }
        message = message.map { InertText.line($0).trimmingCharacters(in: .whitespaces).capped(Self.messageLimit) }
            .flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// `Retry-After` as seconds or an HTTP date (relative to now, at least 0).
func parseRetryAfter(_ value: String) -> Duration? {
    let trimmed = value.trimmingCharacters(in: .whitespaces)
    if let seconds = Double(trimmed), seconds >= 0 { return .seconds(seconds) }
    if let date = HTTPDate.parse(trimmed) {
        return .seconds(max(0, date.timeIntervalSinceNow))
    }
    return nil
}

extension UInt8 {
    fileprivate var isJSONWhitespace: Bool {
        self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09
    }
}
