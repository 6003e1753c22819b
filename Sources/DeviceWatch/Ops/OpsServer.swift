import DeviceWatchCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The ops HTTP server: `/healthz`, `/readyz`, `/metrics`, `/api/v1/{alerts,silences,notifications}`
/// and the status page at `/`. Loopback by default; silence writes need the admin token when one
/// is configured, and are refused on a non-loopback listener without one.
public struct OpsServer: Sendable {
    public struct Settings: Sendable {
        /// `host:port`; port 0 picks a free one.
        public var listen: String
        /// The bearer token silence writes need.
        public var adminToken: Secret?
        /// Whether writes without a token are allowed (only on a loopback listener).
        public var allowsAnonymousWrites: Bool
        /// How the status page groups devices for its uptime bars (`history.group_by`).
        public var historyGroupBy: HistoryGrouping = .tag(Glob("site-*"))
        /// The configured `time_intervals`' names, which a silence's `during` must name.
        public var timeIntervals: Set<String> = []
        /// `server.external_url`: where people's browsers reach the pages (for the Origin check).
        public var externalURL: String?
    }

    let settings: Settings
    let store: any StateStore
    let metrics: WorkerMetrics
    let status: @Sendable () async -> WorkerStatus
    /// The engine's clock: silences are placed on it and their remaining time read from it.
    let clock: @Sendable () async -> EngineClock
    let logger: Logger
    let onListening: @Sendable (String) async -> Void
    /// The status page's history section, computed at most every 30 seconds per range.
    let historyCache = HistoryCache()

    /// - Parameters:
    ///   - status: reads the worker at one moment (engine, outbox counts, reload outcome).
    ///   - onListening: told `http://host:port` once the server listens.
    public init(
        settings: Settings, store: any StateStore, metrics: WorkerMetrics, logger: Logger,
        status: @escaping @Sendable () async -> WorkerStatus,
        clock: @escaping @Sendable () async -> EngineClock = { EngineClock() },
        onListening: @escaping @Sendable (String) async -> Void = { _ in }
    ) {
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.status = status
        self.clock = clock
        self.logger = logger
        self.onListening = onListening
    }

    /// Serves until cancelled or shut down gracefully; throws when it cannot listen.
    public func run() async throws {
        guard let colon = settings.listen.lastIndex(of: ":"),
            let port = Int(settings.listen[settings.listen.index(after: colon)...])
        else {
            throw OpsServerError(listen: settings.listen, detail: "expected HOST:PORT")
        }
        let bracketed = String(settings.listen[..<colon])
        let host =
            bracketed.hasPrefix("[") && bracketed.hasSuffix("]") ? String(bracketed.dropFirst().dropLast()) : bracketed
        // Hummingbird's own lines stay out of the worker's log: it reports startup and every request,
        // and an error when a shutdown cancels its open connections. What matters (the bound
        // address, a failure to listen) the worker says itself.
        var quiet = Logger(label: logger.label)
        quiet.logLevel = .critical
        let app = Application(
            router: router(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "devicewatch"),
            onServerRunning: { [logger, onListening] channel in
                let bound = channel.localAddress?.port ?? port
                let display = host.contains(":") ? "[\(host)]" : host
                let address = "http://\(display):\(bound)"
                logger.info("ops server listening on \(address)", metadata: ["address": "\(address)"])
                await onListening(address)
            },
            logger: quiet)
        do {
            try await app.run()
        } catch {
            throw OpsServerError(listen: settings.listen, detail: "\(error)")
        }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in Self.text("ok\n") }
        router.get("/readyz") { _, _ in
            let status = await status()
            return Self.json(
                OpsResources.ReadinessResource(status), status: status.readiness.ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            metrics.refresh(await status())
            return Self.text(metrics.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/api/v1/alerts") { request, _ in
            let status = await status()
            let query = request.uri.queryParameters
            var alerts = status.alerts
            if let state = query.get("state") { alerts = alerts.filter { $0.state.rawValue == state } }
            if let rule = query.get("rule") { alerts = alerts.filter { $0.key.ruleID == rule } }
            if let workspace = query.get("workspace") { alerts = alerts.filter { $0.key.workspace == workspace } }
            let acknowledged = await acknowledgements(at: status.now)
            return Self.json([
                "alerts": alerts.map {
                    OpsResources.AlertResource($0, rules: status.rules, acknowledgement: acknowledged($0))
                }
            ])
        }
        router.get("/api/v1/silences") { request, _ in
            let now = await clock().now(local: Date())
            let all = request.uri.queryParameters.get("all") == "true"
            do {
                let silences = try await store.silences(includeExpired: all, at: now)
                return Self.json(["silences": silences.map { OpsResources.SilenceResource($0, now: now) }])
            } catch {
                return Self.problem("\(error)", status: .internalServerError)
            }
        }
        router.post("/api/v1/silences") { request, _ in
            if let refusal = authorize(request) { return refusal }
            var request = request
            let body: OpsResources.SilenceRequestBody
            do {
                let bytes = try await request.collectBody(upTo: 64 * 1024)
                body = try JSONOutput.decoder().decode(
                    OpsResources.SilenceRequestBody.self, from: Data(buffer: bytes))
            } catch {
                return Self.problem(
                    "the body must be JSON like {\"matchers\": [\"rule=production-offline\"], \"duration\": \"2h\", \"comment\": \"why\"}",
                    status: .badRequest)
            }
            let silenceRequest = Silence.Request(
                matchers: body.matchers ?? [], duration: body.duration ?? "", comment: body.comment ?? "",
                author: body.author ?? "api",
                startsAt: body.startsAt, during: body.during ?? [], knownTimeIntervals: settings.timeIntervals)
            // On the engine's clock (the API's): "2h" means two hours as the engine judges alerts.
            let matchers = silenceRequest.matchers.compactMap { try? Silence.Matcher.parse($0).get() }
            let now = await clock().now(local: Date(), for: matchers)
            switch silenceRequest.silence(id: Silence.newID(), now: now) {
            case .failure(let error):
                return Self.problem("the silence was not added", problems: error.problems, status: .badRequest)
            case .success(let silence):
                do {
                    try await store.addSilence(silence)
                } catch {
                    return Self.problem("\(error)", status: .internalServerError)
                }
                logger.info(
                    "silence added over the API", metadata: ["silence": "\(silence.id)", "author": "\(silence.author)"])
                return Self.json(OpsResources.SilenceResource(silence, now: now), status: .created)
            }
        }
        router.delete("/api/v1/silences/:id") { request, context in
            if let refusal = authorize(request) { return refusal }
            let id = context.parameters.get("id") ?? ""
            let now = await clock().now(local: Date())
            do {
                guard try await store.expireSilence(id, at: now) else {
                    return Self.problem("no active or future silence has id \(id)", status: .notFound)
                }
            } catch {
                return Self.problem("\(error)", status: .internalServerError)
            }
            logger.info("silence expired over the API", metadata: ["silence": "\(id)"])
            return Self.json(["expired": id])
        }
        router.get("/api/v1/notifications") { request, _ in
            let query = request.uri.queryParameters
            var state: OutboxEntry.State?
            if let text = query.get("state") {
                guard let parsed = OutboxEntry.State(rawValue: text) else {
                    return Self.problem("state must be pending, sent or dead, not \"\(text)\"", status: .badRequest)
                }
                state = parsed
            }
            let limit = min(max(query.get("limit", as: Int.self) ?? 100, 1), 1000)
            do {
                let entries = try await store.notifications(state: state, limit: limit)
                return Self.json(["notifications": entries.map(OpsResources.NotificationResource.init)])
            } catch {
                return Self.problem("\(error)", status: .internalServerError)
            }
        }
        router.get("/") { request, _ in
            let status = await status()
            let now = status.now
            let recent = await (try? store.notifications(state: nil, limit: 20)) ?? []
            let silences = await (try? store.silences(includeExpired: false, at: now)) ?? []
            let range = HistoryPages.Range(rawValue: request.uri.queryParameters.get("range") ?? "") ?? .day
            let history = await historySection(range: range, now: now)
            let html = StatusPage.render(
                status: status, notifications: recent, silences: silences, history: history,
                acknowledgement: await acknowledgements(at: now), askForToken: settings.adminToken != nil)
            return Self.text(html, contentType: "text/html; charset=utf-8")
        }
        addHistoryRoutes(to: router)
        addAcknowledgeRoutes(to: router)
        return router
    }

    /// Which acknowledgement, if any, holds for an alert now (none when the store cannot say).
    func acknowledgements(at now: Date) async -> (AlertInstance) -> Acknowledgement? {
        let all = await (try? store.acknowledgements(includeExpired: false, at: now)) ?? []
        guard !all.isEmpty else { return { _ in nil } }
        return { alert in all.last { $0.covers(alert, at: now) } }
    }

    /// nil when the request may write; otherwise the refusal to send.
    /// - Parameter formToken: the token as a form field (the status page's buttons post forms).
    func authorize(_ request: Request, formToken: String? = nil) -> Response? {
        // A browser says where a request comes from: a page elsewhere posting to this server (a
        // cross-site form acknowledging or silencing alerts behind your back) is refused. Tools
        // (curl, the CLI) send no Origin.
        if let origin = request.headers[.origin] {
            let host = request.head.authority ?? ""
            // Behind a proxy the Host may be this server's own: the page's origin is then the
            // configured external URL's.
            let external = settings.externalURL.flatMap(URLComponents.init(string:)).map { url in
                "\(url.scheme ?? "https")://\(url.host ?? "")" + (url.port.map { ":\($0)" } ?? "")
            }
            guard origin == "http://\(host)" || origin == "https://\(host)" || origin == external else {
                return Self.problem(
                    "refused: a write from another site (Origin \(origin)); use this server's own pages or a tool",
                    status: .forbidden)
            }
        }
        guard let token = settings.adminToken else {
            if settings.allowsAnonymousWrites { return nil }
            return Self.problem(
                "writes (silences, acknowledgements) on a non-loopback listener need a token: set server.admin_token_env and send Authorization: Bearer TOKEN",
                status: .forbidden)
        }
        let given = request.headers[.authorization] ?? formToken.map { "Bearer " + $0 } ?? ""
        guard given.hasPrefix("Bearer "), Self.constantTimeEqual(String(given.dropFirst(7)), token.exposedValue) else {
            var response = Self.problem("send the admin token as Authorization: Bearer TOKEN", status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return nil
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }

    static func text(
        _ body: String, contentType: String = "text/plain; charset=utf-8", status: HTTPResponse.Status = .ok
    ) -> Response {
        Response(
            status: status, headers: [.contentType: contentType, .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        text(
            ((try? JSONOutput.string(value)) ?? #"{"error":"encoding failed"}"#) + "\n",
            contentType: "application/json", status: status)
    }

    static func problem(_ message: String, problems: [String]? = nil, status: HTTPResponse.Status) -> Response {
        json(OpsResources.ErrorResource(error: message, problems: problems), status: status)
    }
}

/// The ops server could not start.
public struct OpsServerError: Error, Sendable, CustomStringConvertible {
    public var listen: String
    public var detail: String

    public var description: String {
        "the ops server cannot listen on \(listen) (\(detail)); set server.listen to a free HOST:PORT (port 0 picks one)"
    }
}
