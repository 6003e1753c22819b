import DeviceWatchCore
import Foundation
import Hummingbird

/// The history over HTTP: `/devices/ID` and `/alerts` for people, `/api/v1/availability`,
/// `/api/v1/devices/ID/history` and `/api/v1/alerts/history` as JSON (the same shapes as
/// `devicewatch report --format json`).
extension OpsServer {
    func addHistoryRoutes(to router: Router<BasicRequestContext>) {
        let reader = HistoryReader(store: store)
        router.get("/api/v1/availability") { request, _ in
            await Self.answering {
                let query = request.uri.queryParameters
                let now = await status().now
                let window = try Self.window(query.get("since"), query.get("until"), now: now)
                let grouping: HistoryGrouping
                switch HistoryGrouping.parse(query.get("by") ?? "device") {
                case .failure(let error): throw QueryProblem("by: \(error)")
                case .success(let by): grouping = by
                }
                var target: Double?
                if let text = query.get("target") {
                    guard let percent = Double(text), percent > 0, percent <= 100 else {
                        throw QueryProblem("target must be a percentage in (0, 100], e.g. 99.5")
                    }
                    target = percent / 100
                }
                let segments = min(max(query.get("segments", as: Int.self) ?? 0, 0), 500)
                let workspace = query.get("workspace"), device = query.get("device")
                let history = try await reader.fleetHistory(
                    window: window, workspace: workspace, deviceID: device, now: now)
                let report = AvailabilityReport.build(
                    history, by: grouping, target: target, segments: segments, workspace: workspace, deviceID: device)
                return Self.json(HistoryOutput.json(report))
            }
        }
        router.get("/api/v1/alerts/history") { request, _ in
            await Self.answering {
                let query = request.uri.queryParameters
                let now = await status().now
                let window = try Self.window(query.get("since") ?? "7d", query.get("until"), now: now)
                let resolved = try Self.resolvedFilter(query.get("state"), "state must be firing or resolved")
                let rows = try await reader.alerts(
                    AlertHistoryQuery(
                        workspace: query.get("workspace"), ruleID: query.get("rule"), deviceID: query.get("device"),
                        since: window.start, until: window.end, resolved: resolved, limit: 5_000))
                return Self.json(HistoryOutput.json(rows, since: window.start, until: window.end))
            }
        }
        router.get("/api/v1/devices/:id/history") { request, context in
            await Self.answering {
                let raw = context.parameters.get("id") ?? ""
                let id = raw.removingPercentEncoding ?? raw
                let query = request.uri.queryParameters
                let now = await status().now
                let window = try Self.window(query.get("since") ?? "7d", query.get("until"), now: now)
                let workspace = query.get("workspace")
                let history = try await reader.fleetHistory(
                    window: window, workspace: workspace, deviceID: id, now: now)
                guard let facts = history.devices.first else {
                    return Self.problem("devicewatch has no history of a device \(id)", status: .notFound)
                }
                let episodes = try await reader.alerts(
                    AlertHistoryQuery(workspace: facts.workspace, deviceID: id, since: window.start, until: window.end))
                return Self.json(HistoryOutput.deviceJSON(history, facts: facts, episodes: episodes))
            }
        }
        router.get("/devices/:id") { request, context in
            await Self.answering {
                let raw = context.parameters.get("id") ?? ""
                let id = raw.removingPercentEncoding ?? raw
                let range = HistoryPages.Range(rawValue: request.uri.queryParameters.get("range") ?? "") ?? .week
                let status = await status()
                let window = range.window(until: status.now)
                let history = try await reader.fleetHistory(window: window, deviceID: id, now: status.now)
                guard let facts = history.devices.first else {
                    return Self.text(
                        HistoryPages.page(
                            title: "No such device · devicewatch",
                            body:
                                "<p><a href=\"/\">← status</a></p><div class=\"empty\">devicewatch has no history of a device "
                                + HistorySVG.html(id) + ".</div>"),
                        contentType: "text/html; charset=utf-8", status: .notFound)
                }
                let episodes = try await reader.alerts(
                    AlertHistoryQuery(
                        workspace: facts.workspace, deviceID: id, since: window.start, until: window.end, limit: 200))
                let mentions = try await store.notifications(state: nil, limit: 2_000).filter { entry in
                    (entry.intent.firing + entry.intent.resolved).contains {
                        $0.key.deviceID == id && $0.key.workspace == facts.workspace
                    }
                }
                let view = HistoryPages.DeviceView(
                    deviceID: id, facts: facts, range: range, history: history,
                    current: status.alerts.filter { $0.key.deviceID == id && $0.key.workspace == facts.workspace },
                    episodes: episodes, notifications: Array(mentions.prefix(50)), rules: status.rules)
                return Self.text(HistoryPages.devicePage(view), contentType: "text/html; charset=utf-8")
            }
        }
        router.get("/alerts") { request, _ in
            await Self.answering {
                let query = request.uri.queryParameters
                let range = HistoryPages.Range(rawValue: query.get("since") ?? "") ?? .week
                let state = query.get("state").flatMap { $0 == "all" ? nil : $0 }
                let resolved = try Self.resolvedFilter(state, "state must be all, firing or resolved")
                let now = await status().now
                let window = range.window(until: now)
                let rows = try await reader.alerts(
                    AlertHistoryQuery(
                        ruleID: query.get("rule"), since: window.start, until: window.end, resolved: resolved,
                        limit: 500))
                let html = HistoryPages.alertsPage(
                    rows, window: window, state: state, rule: query.get("rule"), range: range)
                return Self.text(html, contentType: "text/html; charset=utf-8")
            }
        }
    }

    /// Runs one history endpoint: a ``QueryProblem`` it throws answers 400 with its message, any
    /// other error (the store cannot be read) 500.
    static func answering(_ work: () async throws -> Response) async -> Response {
        do {
            return try await work()
        } catch let problem as QueryProblem {
            return Self.problem(problem.message, status: .badRequest)
        } catch {
            return Self.problem("\(error)", status: .internalServerError)
        }
    }

    /// `firing` → false, `resolved` → true, none → nil (both); anything else is `problem`.
    static func resolvedFilter(_ state: String?, _ problem: String) throws(QueryProblem) -> Bool? {
        switch state {
        case nil: nil
        case "firing": false
        case "resolved": true
        default: throw QueryProblem(problem)
        }
    }

    /// A window from `since` (a duration back from now, or a time) to `until` (the same; now by default).
    static func window(_ since: String?, _ until: String?, now: Date) throws(QueryProblem) -> DateInterval {
        func time(_ text: String, _ name: String) throws(QueryProblem) -> Date {
            if let seconds = DurationText.seconds(text), seconds > 0 { return now.addingTimeInterval(-seconds) }
            if let date = Timestamp.parse(text) { return date }
            throw QueryProblem(
                "\(name) must be a duration back from now (24h, 7d, 30d) or a time (2026-11-01T00:00:00Z)")
        }
        let start = try time(since ?? "24h", "since")
        let end = try until.map { text throws(QueryProblem) in try time(text, "until") } ?? now
        guard start < end else { throw QueryProblem("the window is empty: since must be before until") }
        return DateInterval(start: start, end: end)
    }

    /// The status page's history section for a range, from the cache when it is fresh.
    func historySection(range: HistoryPages.Range, now: Date) async -> String {
        if let cached = await historyCache.get(range, now: now) { return cached }
        let window = range.window(until: now)
        guard let history = try? await HistoryReader(store: store).fleetHistory(window: window, now: now) else {
            return "<h2>History</h2><div class=\"empty\">The history cannot be read from the state store now.</div>"
        }
        let html = HistoryPages.render(HistoryPages.section(history, range: range, groupBy: settings.historyGroupBy))
        await historyCache.put(range, html, now: now)
        return html
    }
}

/// The status page refreshes every 15 seconds; its history is read at most every 30.
actor HistoryCache {
    private var entries: [HistoryPages.Range: (at: Date, html: String)] = [:]

    func get(_ range: HistoryPages.Range, now: Date) -> String? {
        guard let entry = entries[range], now.timeIntervalSince(entry.at) < 30, now >= entry.at else { return nil }
        return entry.html
    }

    func put(_ range: HistoryPages.Range, _ html: String, now: Date) { entries[range] = (now, html) }
}

/// A query parameter that cannot be used, in words.
struct QueryProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
