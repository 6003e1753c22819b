import DeviceWatchCore
import Foundation

/// The status page's history: uptime bars per workspace and group, the fleet chart, a page per
/// device (`/devices/ID`) and the alert history (`/alerts`). Server-rendered HTML and inline SVG;
/// every device- or API-controlled text goes through ``HistorySVG/html(_:)``.
public enum HistoryPages {
    /// The windows a person picks between (links, no JavaScript).
    enum Range: String, Sendable, CaseIterable {
        case day = "24h", week = "7d", month = "30d"

        var seconds: Double {
            switch self {
            case .day: 86_400
            case .week: 7 * 86_400
            case .month: 30 * 86_400
            }
        }

        /// Uptime bar segments: hours, quarter days, days.
        var segments: Int {
            switch self {
            case .day: 24
            case .week: 28
            case .month: 30
            }
        }

        /// Moments the fleet chart counts: every 15 minutes, 2 hours, 6 hours.
        var chartSamples: Int {
            switch self {
            case .day: 97
            case .week: 85
            case .month: 121
            }
        }

        func window(until now: Date) -> DateInterval { DateInterval(start: now.addingTimeInterval(-seconds), end: now) }
    }

    /// What the status page's history section shows for one range.
    struct Section: Sendable {
        var range: Range
        var workspaces: AvailabilityReport
        var groups: AvailabilityReport
        var chart: FleetChart
        var window: DateInterval
    }

    static func section(_ history: FleetHistory, range: Range, groupBy: HistoryGrouping) -> Section {
        // Each device's rows are gathered, and its figures worked out, once for both views.
        let timelines = history.timelines()
        let reports = AvailabilityReport.build(
            timelines, by: [.workspace, groupBy], segments: range.segments, barsOnly: true)
        return Section(
            range: range, workspaces: reports[0], groups: reports[1],
            chart: FleetChart.build(timelines, samples: range.chartSamples), window: history.window)
    }

    static func html(_ text: String) -> String { HistorySVG.html(text) }

    static func rangeLinks(_ current: Range, path: String) -> String {
        Range.allCases.map { range in
            range == current
                ? "<b aria-current=\"page\">\(range.rawValue)</b>"
                : "<a href=\"\(path)?range=\(range.rawValue)\">\(range.rawValue)</a>"
        }.joined(separator: " · ")
    }

    /// The status page's history section.
    static func render(_ section: Section) -> String {
        let when = HistorySVG.partTimes(AvailabilityReport.parts(of: section.window, count: section.range.segments))
        func rows(_ report: AvailabilityReport, kind: String) -> String {
            report.rows.map { row in
                let label =
                    "\(kind) \(row.key), last \(section.range.rawValue): \(HistoryOutput.percent(row.figures.availability))"
                return """
                    <div class="uptime"><div class="uptime-head"><b>\(html(row.key))</b> \
                    <span class="muted">\(row.devices) devices\(row.downNow > 0 ? " · <span class=\"off\">\(row.downNow) down now</span>" : "")</span>\
                    <span class="pct">\(HistoryOutput.percent(row.figures.availability))</span></div>\
                    \(HistorySVG.uptimeBar(row.segments, when: when, label: label))</div>
                    """
            }.joined(separator: "\n")
        }
        let chartLabel = "devices online, unknown, offline and unseen over the last \(section.range.rawValue)"
        return """
            <h2 id="history">History <span class="muted range">\(rangeLinks(section.range, path: "/"))</span></h2>
            <div class="card">
            \(rows(section.workspaces, kind: "workspace"))
            \(section.groups.rows.isEmpty ? "" : "<h3>By \(html(section.groups.grouping.description))</h3>" + rows(section.groups, kind: "group"))
            \(HistorySVG.legend())
            <p class="muted">Each bar is the last \(section.range.rawValue) in \(section.range.segments) parts of \
            \(DurationText.format(seconds: section.range.seconds / Double(section.range.segments))), oldest on the left; \
            each part's time and availability are in its tooltip. A group's availability adds up its devices' time.</p>
            </div>
            <h2>Fleet over the last \(section.range.rawValue)</h2>
            <div class="card">\(HistorySVG.fleetChart(section.chart, label: chartLabel))
            <p class="muted">Stacked: online (green), unknown (amber), offline (red), no data (grey). \
            Availability = online / (online + offline); no data is when devicewatch could not see the workspace. \
            <a href="/alerts?state=resolved">Alert history</a> · JSON: \
            <a href="/api/v1/availability?since=\(section.range.rawValue)&amp;by=\(html(section.groups.grouping.description))">availability</a></p></div>
            """
    }

    // MARK: Device page

    struct DeviceView: Sendable {
        var deviceID: String
        var facts: KnownDevice?
        var range: Range
        var history: FleetHistory
        var current: [AlertInstance]
        var episodes: [AlertHistoryRow]
        var notifications: [OutboxEntry]
        var rules: RuleSet
    }

    static func devicePage(_ view: DeviceView) -> String {
        let all = view.history.timelines()
        let blind = all.blind
        let timeline = all.devices.first { $0.facts.deviceID == view.deviceID }
        let facts = view.facts ?? timeline?.facts
        let name = facts?.name ?? view.deviceID
        let window = view.history.window
        let spans =
            timeline.map {
                StatusTimeline.spans(
                    atStart: $0.atStart, changes: $0.changes, window: window, blind: blind[$0.facts.workspace] ?? [])
            } ?? []
        let figures =
            timeline.map {
                Availability.device(
                    atStart: $0.atStart, changes: $0.changes, window: window, blind: blind[$0.facts.workspace] ?? [])
            } ?? AvailabilityFigures()
        var body = """
            <p><a href="/">← status</a></p>
            <h2>\(html(name)) <span class="muted">\(html(view.deviceID))</span></h2>
            <div class="card"><dl class="facts">
            <dt>Workspace</dt><dd>\(html(facts?.workspace ?? "—"))</dd>
            <dt>Type</dt><dd>\(html(facts?.type ?? "—"))</dd><dt>Platform</dt><dd>\(html(facts?.platform ?? "—"))</dd>
            <dt>Tags</dt><dd>\(facts.map { $0.tags.map { "<code>\(html($0))</code>" }.joined(separator: " ") } ?? "—")</dd>
            </dl></div>
            <h2>Status over the last \(view.range.rawValue) <span class="muted range">\(rangeLinks(view.range, path: "/devices/" + percentEncoded(view.deviceID)))</span></h2>
            <div class="card">
            \(HistorySVG.timeline(spans, window: window, label: "\(name) status over the last \(view.range.rawValue)"))
            <p class="muted">\(HistorySVG.day(window.start)) to \(HistorySVG.day(window.end)) UTC</p>
            <p><b>\(HistoryOutput.percent(figures.availability))</b> available · online \(DurationText.format(seconds: figures.online)) · \
            offline \(DurationText.format(seconds: figures.offline)) · unknown \(DurationText.format(seconds: figures.unknown)) · \
            no data \(DurationText.format(seconds: figures.noData)) · \(figures.outages) outage\(figures.outages == 1 ? "" : "s")\
            \(figures.outages > 0 ? ", the longest \(DurationText.format(seconds: figures.longestOutage))" : "")\
            \(figures.meanTimeToRecover.map { ", back in \(DurationText.format(seconds: $0)) on average" } ?? "")</p>
            \(HistorySVG.legend())
            <table><thead><tr><th>From</th><th>Status</th><th>For</th></tr></thead><tbody>
            \(spans.filter { $0.kind != .unlisted }.reversed().prefix(50).map { "<tr><td>\(HistorySVG.day($0.interval.start))</td><td data-label=\"Status\">\($0.kind.rawValue)</td><td data-label=\"For\">\(DurationText.format(seconds: $0.interval.duration))</td></tr>" }.joined())
            </tbody></table></div>
            """
        body += "<h2>Alerts now</h2>"
        body +=
            view.current.isEmpty
            ? "<div class=\"empty\">No alert about this device now.</div>"
            : "<table><tbody>"
                + view.current.map {
                    "<tr><td><span class=\"pill sev-\($0.severity.rawValue)\">\($0.severity.rawValue)</span></td><td data-label=\"Rule\"><code>\(html($0.key.ruleID))</code> \($0.state.rawValue)</td><td data-label=\"What\">\(html(view.rules.summary(of: $0)))</td></tr>"
                }.joined() + "</tbody></table>"
        body += "<h2>Past alerts</h2>" + alertTable(view.episodes, now: window.end)
        body += "<h2>Notifications about it</h2>"
        body +=
            view.notifications.isEmpty
            ? "<div class=\"empty\">No notification in the outbox mentions this device (sent ones are kept 7 days).</div>"
            : "<table><thead><tr><th>When</th><th>Receiver</th><th>Delivery</th></tr></thead><tbody>"
                + view.notifications.map {
                    "<tr><td>\(HistorySVG.day($0.createdAt))</td><td data-label=\"Receiver\">\(html($0.intent.receiver)) <span class=\"muted\">\($0.intent.reason.rawValue)</span></td><td data-label=\"Delivery\">\($0.state.rawValue)</td></tr>"
                }.joined() + "</tbody></table>"
        body +=
            "<p class=\"muted\">JSON: <a href=\"/api/v1/devices/\(percentEncoded(view.deviceID))/history?since=\(view.range.rawValue)\">this device's history</a></p>"
        return page(title: "\(name) · devicewatch", body: body)
    }

    // MARK: Alert history

    static func alertTable(_ rows: [AlertHistoryRow], now: Date) -> String {
        guard !rows.isEmpty else { return "<div class=\"empty\">No alert fired in this window.</div>" }
        return
            "<table><thead><tr><th>Fired</th><th>Severity</th><th>Rule</th><th>Device</th><th>For</th><th>State</th><th>Notified</th></tr></thead><tbody>"
            + rows.map { row in
                let episode = row.episode
                let device = episode.key.deviceID
                let state =
                    episode.resolvedAt == nil
                    ? "<span class=\"off\">firing</span>"
                    : "resolved (\(episode.resolveReason?.rawValue ?? "recovered"))"
                return
                    "<tr><td>\(HistorySVG.day(episode.firedAt))</td><td><span class=\"pill sev-\(episode.severity.rawValue)\">\(episode.severity.rawValue)</span></td>"
                    + "<td data-label=\"Rule\"><code>\(html(episode.key.ruleID))</code></td>"
                    + "<td data-label=\"Device\"><a href=\"/devices/\(percentEncoded(device))\">\(html(episode.subject ?? device))</a> <span class=\"muted\">\(html(device))</span></td>"
                    + "<td data-label=\"For\">\(DurationText.format(seconds: episode.duration(at: now)))</td><td data-label=\"State\">\(state)\(episode.flapped ? " <span class=\"badge\">flapped</span>" : "")</td>"
                    + "<td data-label=\"Notified\">\(html(row.toldText))\(row.repeats > 0 ? " <span class=\"muted\">(\(row.repeats) repeats)</span>" : "")</td></tr>"
            }.joined() + "</tbody></table>"
    }

    static func alertsPage(_ rows: [AlertHistoryRow], window: DateInterval, state: String?, rule: String?, range: Range)
        -> String
    {
        let states: String = ["all", "firing", "resolved"].map { choice in
            let current = (state ?? "all") == choice
            var query = "state=\(choice)&amp;since=\(range.rawValue)"
            if let rule { query += "&amp;rule=\(percentEncoded(rule))" }
            return current ? "<b aria-current=\"page\">\(choice)</b>" : "<a href=\"/alerts?\(query)\">\(choice)</a>"
        }.joined(separator: " · ")
        let ranges: String = Range.allCases.map { choice in
            var query = "since=\(choice.rawValue)"
            if let state { query += "&amp;state=\(percentEncoded(state))" }
            if let rule { query += "&amp;rule=\(percentEncoded(rule))" }
            return choice == range ? "<b>\(choice.rawValue)</b>" : "<a href=\"/alerts?\(query)\">\(choice.rawValue)</a>"
        }.joined(separator: " · ")
        let filters = states + " &nbsp; " + ranges
        let title = "Alert history" + (rule.map { " of " + html($0) } ?? "")
        let body = """
            <p><a href="/">← status</a></p>
            <h2>\(title) <span class="muted">\(rows.count) since \(HistorySVG.day(window.start)) UTC</span></h2>
            <p class="range">\(filters)</p>
            \(alertTable(rows, now: window.end))
            <p class="muted">JSON: <a href="/api/v1/alerts/history?since=\(range.rawValue)\(state.map { "&amp;state=" + percentEncoded($0) } ?? "")">this list</a></p>
            """
        return page(title: "Alert history · devicewatch", body: body)
    }

    static func page(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(html(title))</title><style>\(StatusPage.style)</style></head>
        <body><header><h1>devicewatch</h1></header><main>
        \(body)
        </main></body></html>
        """
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?&#=+"))) ?? text
    }
}

extension HistoryPages {
    /// The status page's history section for a window of `range` ("24h", "7d" or "30d"), from
    /// history already read: what the page renders, for benchmarks. Nil for another range.
    public static func statusSection(_ history: FleetHistory, range: String, groupBy: HistoryGrouping) -> String? {
        guard let range = Range(rawValue: range) else { return nil }
        return render(section(history, range: range, groupBy: groupBy))
    }
}
