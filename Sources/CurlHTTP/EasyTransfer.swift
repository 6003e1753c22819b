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

    /// The mail transfer's upload: how much of `requestBody` libcurl has read.
    private var uploadLength = 0
    private var uploadOffset = 0
    /// SMTP rather than HTTP: the reply codes of a refusal decide its error.
    private let isMail: Bool

    convenience init(_ request: HTTPRequestSpec) throws(CurlHTTPError) {
        try self.init(url: request.url, schemes: ["http", "https"], maxResponseBytes: request.maxResponseBytes)
        try configure(request)
    }

    convenience init(mail: MailRequestSpec) throws(CurlHTTPError) {
        try self.init(url: mail.url, schemes: ["smtp", "smtps"], maxResponseBytes: 1 << 20)
        try configure(mail)
    }

    private init(url: String, schemes: [String], maxResponseBytes: Int) throws(CurlHTTPError) {
        CurlGlobal.ensureInitialized()
        let parts = URLParts.of(url)
        redactedURL = parts.redacted
        secrets = parts.secrets
        self.maxResponseBytes = maxResponseBytes
        isMail = schemes.contains("smtp")
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        guard let handle = curl_easy_init() else {
            errorBuffer.deallocate()
            throw CurlHTTPError(kind: .other, redactedURL: redactedURL, detail: "curl_easy_init failed")
        }
        self.handle = handle
        guard let scheme = url.split(separator: ":", maxSplits: 1).first?.lowercased(), schemes.contains(scheme)
        else {
            throw CurlHTTPError(kind: .unsupportedProtocol, redactedURL: redactedURL)
        }
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

    /// SMTP: the envelope, credentials, TLS (STARTTLS required unless told otherwise), and the
    /// message uploaded from our buffer.
    private func configure(_ mail: MailRequestSpec) throws(CurlHTTPError) {
        try set(CURLOPT_URL, mail.url)
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        try set(CURLOPT_CONNECTTIMEOUT_MS, mail.connectTimeout.milliseconds)
        try set(CURLOPT_TIMEOUT_MS, mail.totalTimeout.milliseconds)
        try set(CURLOPT_TCP_NODELAY, 1)
        try check(dw_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        // CURLUSESSL_ALL: STARTTLS or nothing is sent (smtps:// is TLS from the start either way).
        try set(CURLOPT_USE_SSL, mail.requireTLS ? Int(CURLUSESSL_ALL.rawValue) : Int(CURLUSESSL_NONE.rawValue))
        if let caFile = mail.caFile { try set(CURLOPT_CAINFO, caFile) }
        if let username = mail.username { try set(CURLOPT_USERNAME, username) }
        if let password = mail.password { try set(CURLOPT_PASSWORD, password) }
        try set(CURLOPT_MAIL_FROM, "<\(mail.from)>")
        var list: UnsafeMutablePointer<curl_slist>?
        for recipient in mail.recipients { list = curl_slist_append(list, "<\(recipient)>") }
        headerList = list
        try check(dw_curl_easy_setopt_slist(handle, CURLOPT_MAIL_RCPT, list))

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(mail.message.count, 1), alignment: 1)
        mail.message.copyBytes(to: buffer)
        requestBody = buffer
        uploadLength = mail.message.count
        try set(CURLOPT_UPLOAD, 1)
        try check(dw_curl_easy_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(mail.message.count)))
        let me = Unmanaged.passUnretained(self).toOpaque()
        try check(dw_curl_easy_setopt_data_callback(handle, CURLOPT_READFUNCTION, easyReadCallback))
        try check(dw_curl_easy_setopt_pointer(handle, CURLOPT_READDATA, me))
        try check(dw_curl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, easyWriteCallback))
        try check(dw_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, me))
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

    fileprivate func readUpload(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        guard let body = requestBody?.baseAddress else { return 0 }
        let count = min(capacity, uploadLength - uploadOffset)
        buffer.copyMemory(from: body + uploadOffset, byteCount: count)
        uploadOffset += count
        return count
    }

    fileprivate func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        // Split and trimmed at the byte level ("\r\n" is one Character in Swift, and Foundation's
        // trimming was a visible part of a delivery's CPU).
        func isSpace(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
                || byte == UInt8(ascii: "\n")
        }
        if bytes.starts(with: "HTTP/".utf8) {
            headerFields.removeAll()  // a new response (after 1xx) starts
            return
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return }
        var start = colon + 1
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<colon]), as: UTF8.self)
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
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
        var kind: CurlHTTPError.Kind
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
        // SMTP: the server's last reply code says whether a refusal is for now (4xx) or for good (5xx).
        var serverCode = 0
        if isMail {
            _ = dw_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &serverCode)
            if code == CURLE_LOGIN_DENIED {
                kind = .loginDenied
            } else if code == CURLE_USE_SSL_FAILED {
                kind = .tls
            } else if (400..<600).contains(serverCode), kind == .connectionLost || kind == .other {
                kind = .refused
            }
        }
        var detail = String(cString: errorBuffer)
        if detail.isEmpty { detail = String(cString: curl_easy_strerror(code)) }
        if kind == .responseTooLarge { detail = "more than \(maxResponseBytes) bytes" }
        for secret in secrets where !secret.isEmpty {
            detail = detail.replacingOccurrences(of: secret, with: "…")
        }
        return CurlHTTPError(
            kind: kind, redactedURL: redactedURL, detail: detail, curlCode: Int(code.rawValue),
            serverCode: serverCode > 0 ? serverCode : nil)
    }
}

private let easyWriteCallback: dw_curl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<EasyTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    return transfer.receiveBody(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
}

private let easyReadCallback: dw_curl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<EasyTransfer>.fromOpaque(userdata).takeUnretainedValue()
    return transfer.readUpload(into: buffer, capacity: size * count)
}

private let easyHeaderCallback: dw_curl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<EasyTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}
