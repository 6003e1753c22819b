import DeviceWatchCore
import Foundation
import Hummingbird

/// Acknowledging over HTTP: `POST /api/v1/alerts/{fingerprint}/ack` (JSON, for tools) and
/// `POST /alerts/{fingerprint}/ack` (the status page's plain form, no JavaScript), both behind the
/// admin token as every write is: the API's in `Authorization: Bearer`, the form's in a field.
extension OpsServer {
    struct AcknowledgeBody: Decodable {
        var comment: String?
        var author: String?
        var duration: String?
    }

    func addAcknowledgeRoutes(to router: Router<BasicRequestContext>) {
        router.post("/api/v1/alerts/:fingerprint/ack") { request, context in
            if let refusal = authorize(request) { return refusal }
            var request = request
            var body = AcknowledgeBody()
            let bytes = try await request.collectBody(upTo: 64 * 1024)
            if bytes.readableBytes > 0 {
                do {
                    body = try JSONOutput.decoder().decode(AcknowledgeBody.self, from: Data(buffer: bytes))
                } catch {
                    return Self.problem(
                        "the body must be JSON like {\"comment\": \"on it\", \"author\": \"alice\", \"duration\": \"4h\"} (all optional)",
                        status: .badRequest)
                }
            }
            let fingerprint = context.parameters.get("fingerprint") ?? ""
            switch await acknowledge(
                fingerprint, author: body.author ?? "api", comment: body.comment, duration: body.duration)
            {
            case .failure(let error):
                let missing = error.problems.contains { $0.hasPrefix("no alert has") }
                return Self.problem(
                    "the alert was not acknowledged", problems: error.problems,
                    status: missing ? .notFound : .badRequest)
            case .success(let acknowledgement):
                return Self.json(OpsResources.AcknowledgementResource(acknowledgement), status: .created)
            }
        }
        router.post("/alerts/:fingerprint/ack") { request, context in
            var request = request
            let bytes = try await request.collectBody(upTo: 64 * 1024)
            let form = Self.formFields(String(buffer: bytes))
            if let refusal = authorize(request, formToken: form["token"]) { return refusal }
            let fingerprint = context.parameters.get("fingerprint") ?? ""
            let author = form["author"].flatMap { $0.isEmpty ? nil : $0 } ?? "status page"
            let duration = form["for"].flatMap { $0.isEmpty ? nil : $0 }
            switch await acknowledge(fingerprint, author: author, comment: form["comment"], duration: duration) {
            case .failure(let error):
                return Self.text(
                    "The alert was not acknowledged:\n" + error.problems.map { "- \($0)" }.joined(separator: "\n")
                        + "\n", status: .badRequest)
            case .success:
                // Back to the alert on the page, which now says who acknowledged it.
                return Response(
                    status: .seeOther, headers: [.location: "/#alert-\(fingerprint.filter(\.isHexDigit))"])
            }
        }
    }

    /// Acknowledges the firing alert with `fingerprint` now, on the engine's clock.
    func acknowledge(_ fingerprint: String, author: String, comment: String?, duration: String?) async -> Result<
        Acknowledgement, Silence.RequestError
    > {
        let status = await status()
        let alerts = Dictionary(status.alerts.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let now = await clock().now(
            local: Date(), workspace: status.alerts.first { $0.fingerprint == fingerprint }?.key.workspace)
        let request = Acknowledgement.Request(
            target: .alert(fingerprint: fingerprint), author: author, comment: comment ?? "", duration: duration)
        let result = request.acknowledgement(id: Silence.newID(), alerts: alerts, groups: [], at: now)
        guard case .success(let acknowledgement) = result else { return result }
        do {
            try await store.addAcknowledgement(acknowledgement)
        } catch {
            return .failure(Silence.RequestError(problems: ["the state store refused it: \(error)"]))
        }
        logger.info(
            "alert acknowledged", metadata: ["acknowledgement": "\(acknowledgement.id)", "author": "\(author)"])
        return .success(acknowledgement)
    }

    /// `application/x-www-form-urlencoded` fields (`+` is a space, then percent-decoding).
    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let name = parts.first, !name.isEmpty { fields[name] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }
}
