import CCurl
import Foundation

/// Owns one libcurl easy handle and everything it points at for the life of one transfer.
///
/// Safety of `@unchecked Sendable`: after `init` returns, the mutable fields (`responseBody`,
/// `headerFields`, `continuation`, the buffers) are touched only by the ``MultiEngine`` thread,
/// except `lifecycle`, which is read and written only under the engine's lock.
final class EasyTransfer: @unchecked Sendable {
    enum Lifecycle {
        case created
        case cancelledBeforeSubmit
        case submitted
        case finished
    }

    let handle: UnsafeMutableRawPointer
    let redactedURL: String
    let maxResponseBytes: Int
    var lifecycle: Lifecycle = .created
    var continuation: CheckedContinuation<HTTPResponseData, any Error>?

    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var requestBody: UnsafeMutableRawBufferPointer?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let secrets: [String]
    private(set) var responseBody = Data()
    private(set) var headerFields: [HTTPHeaderList.Field] = []
    private(set) var exceededMaxResponse = false

    init(_ request: HTTPRequestSpec) throws(CurlHTTPError) {
        CurlGlobal.ensureInitialized()
        redactedURL = redactURL(request.url)
        secrets = Self.secretParts(of: request.url)
        maxResponseBytes = request.maxResponseBytes
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        guard let handle = curl_easy_init() else {
            errorBuffer.deallocate()
            throw CurlHTTPError(kind: .other, redactedURL: redactedURL, detail: "curl_easy_init failed")
        }
        self.handle = handle
        guard let scheme = request.url.split(separator: ":", maxSplits: 1).first?.lowercased(),
            scheme == "http" || scheme == "https"
        else {
            throw CurlHTTPError(kind: .unsupportedProtocol, redactedURL: redactedURL)
        }
        try configure(request)
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headerList { curl_slist_free_all(headerList) }
        requestBody?.deallocate()
        errorBuffer.deallocate()
    }

    private func configure(_ request: HTTPRequestSpec) throws(CurlHTTPError) {
        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        try set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.milliseconds)
        try set(CURLOPT_TIMEOUT_MS, request.totalTimeout.milliseconds)
        try set(CURLOPT_ACCEPT_ENCODING, "")  // every encoding libcurl can decode
        try set(CURLOPT_TCP_NODELAY, 1)
        try check(dw_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))

        let method = request.method.uppercased()
        switch method {
        case "GET": try set(CURLOPT_HTTPGET, 1)
        case "HEAD": try set(CURLOPT_NOBODY, 1)
        default:
            if method != "POST" { try set(CURLOPT_CUSTOMREQUEST, method) }
        }
        // A POST, PUT or PATCH without a body still sends one, empty, rather than turning into a GET.
        let body = request.body ?? (["POST", "PUT", "PATCH"].contains(method) ? Data() : nil)
        if let body {
            // libcurl reads the body from our buffer, which lives as long as this transfer.
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(body.count, 1), alignment: 1)
            body.copyBytes(to: buffer)
            requestBody = buffer
            try check(dw_curl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            try check(dw_curl_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, buffer.baseAddress))
            if method != "POST" { try set(CURLOPT_CUSTOMREQUEST, method) }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        for field in request.headers {
            list = curl_slist_append(list, "\(field.name): \(field.value)")
        }
        // A large body must not wait for a 100-continue that many servers never send.
        list = curl_slist_append(list, "Expect:")
        headerList = list
        try check(dw_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list))

        let me = Unmanaged.passUnretained(self).toOpaque()
        try check(dw_curl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, easyWriteCallback))
        try check(dw_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, me))
        try check(dw_curl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, easyHeaderCallback))
        try check(dw_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, me))
    }

    private func set(_ option: CURLoption, _ value: Int) throws(CurlHTTPError) {
        try check(dw_curl_easy_setopt_long(handle, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws(CurlHTTPError) {
        // libcurl copies string options (since 7.17), so the temporary C string may go.
        try check(dw_curl_easy_setopt_string(handle, option, value))
    }

    private func check(_ code: CURLcode) throws(CurlHTTPError) {
        guard code == CURLE_OK else { throw error(for: code) }
    }

    // MARK: Callbacks (engine thread)

    fileprivate func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard responseBody.count + bytes.count <= maxResponseBytes else {
            exceededMaxResponse = true
            return false
        }
        responseBody.append(contentsOf: bytes)
        return true
    }

    fileprivate func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        // "\r\n" is one Character in Swift, so trim at the byte level.
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headerFields.removeAll()  // a new response (after 1xx) starts
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon])
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        headerFields.append(.init(name: name, value: value))
    }

    // MARK: Completion (engine thread)

    /// The response of a transfer that libcurl finished with `code`.
    func result(code: CURLcode) -> Result<HTTPResponseData, CurlHTTPError> {
        guard code == CURLE_OK else { return .failure(error(for: code)) }
        var status = 0
        _ = dw_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var connects = 0
        _ = dw_curl_easy_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        return .success(
            HTTPResponseData(
                status: status, headers: HTTPHeaderList(headerFields), body: responseBody,
                newConnections: connects))
    }

    func error(for code: CURLcode) -> CurlHTTPError {
        let kind: CurlHTTPError.Kind
        switch code {
        case CURLE_UNSUPPORTED_PROTOCOL: kind = .unsupportedProtocol
        case CURLE_URL_MALFORMAT: kind = .invalidURL
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: kind = .resolve
        case CURLE_COULDNT_CONNECT: kind = .connect
        case CURLE_OPERATION_TIMEDOUT:
            // A reused connection reports a connect time of 0 too, so ask whether the request got
            // as far as being sent (pre-transfer), which only a connected transfer reaches.
            var connectTime: curl_off_t = 0
            var preTransferTime: curl_off_t = 0
            _ = dw_curl_easy_getinfo_off_t(handle, CURLINFO_CONNECT_TIME_T, &connectTime)
            _ = dw_curl_easy_getinfo_off_t(handle, CURLINFO_PRETRANSFER_TIME_T, &preTransferTime)
            kind = connectTime == 0 && preTransferTime == 0 ? .connectTimeout : .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
            CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            kind = .tls
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2,
            CURLE_HTTP2_STREAM:
            kind = .connectionLost
        case CURLE_WRITE_ERROR where exceededMaxResponse: kind = .responseTooLarge
        default: kind = .other
        }
        var detail = String(cString: errorBuffer)
        if detail.isEmpty { detail = String(cString: curl_easy_strerror(code)) }
        if kind == .responseTooLarge { detail = "more than \(maxResponseBytes) bytes" }
        for secret in secrets where !secret.isEmpty {
            detail = detail.replacingOccurrences(of: secret, with: "…")
        }
        return CurlHTTPError(kind: kind, redactedURL: redactedURL, detail: detail, curlCode: Int(code.rawValue))
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

private let easyWriteCallback: dw_curl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<EasyTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    return transfer.receiveBody(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
}

private let easyHeaderCallback: dw_curl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<EasyTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}

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
