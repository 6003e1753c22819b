import DeviceWatchCore
import Foundation

/// The history's pictures as inline SVG: no external assets and no JavaScript. Every shape has
/// a `<title>` (read by screen readers and shown on hover) and every picture a text label
/// beside it, so nothing is said by colour alone; colours are the status page's own.
enum HistorySVG {
    /// The status page's colour for an availability: green from 99.9%, light green from 99%,
    /// amber from 95%, red below; grey for no data.
    static func colour(_ availability: Double?) -> String {
        guard let availability else { return "#9aa4af" }
        if availability >= 0.999 { return "#2e7d32" }
        if availability >= 0.99 { return "#7cb342" }
        if availability >= 0.95 { return "#f9a825" }
        return "#c62828"
    }

    static func colour(_ kind: StatusTimeline.Kind) -> String {
        switch kind {
        case .online: "#2e7d32"
        case .offline: "#c62828"
        case .unknown: "#f9a825"
        case .noData: "#9aa4af"
        case .unlisted: "transparent"
        }
    }

    /// The uptime bar: a rounded bar per segment of the window, coloured by its availability.
    /// - Parameter when: each segment's time, as ``partTimes(_:)`` gives them (the same for
    ///   every bar of a view, so worked out once).
    static func uptimeBar(_ segments: [Double?], when: [String], label: String) -> String {
        let width = 600, height = 28, gap = 2
        let count = max(segments.count, 1)
        let bar = max(1, (width - gap * (count - 1)) / count)
        var svg =
            "<svg class=\"bar\" viewBox=\"0 0 \(width) \(height)\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"\(html(label))\">"
        for (index, value) in segments.enumerated() {
            let x = index * (bar + gap)
            let time = index < when.count ? when[index] : ""
            svg +=
                "<rect x=\"\(x)\" y=\"0\" width=\"\(bar)\" height=\"\(height)\" rx=\"2\" fill=\"\(colour(value))\"\(value == nil ? " fill-opacity=\"0.45\"" : "")><title>\(time): \(HistoryOutput.percent(value))</title></rect>"
        }
        return svg + "</svg>"
    }

    /// Devices online, unknown, offline and unseen over the window, stacked in that order.
    static func fleetChart(_ chart: FleetChart, label: String) -> String {
        let width = 600.0, height = 160.0, top = 8.0, bottom = 20.0, plot = height - top - bottom
        let points = chart.points
        guard points.count >= 2, let first = points.first, let last = points.last else { return "" }
        let maximum = max(1, points.map { $0.online + $0.offline + $0.unknown + $0.noData }.max() ?? 1)
        let span = last.at.timeIntervalSince(first.at)
        func x(_ date: Date) -> Double { span > 0 ? date.timeIntervalSince(first.at) / span * width : 0 }
        func y(_ count: Int) -> Double { top + plot - Double(count) / Double(maximum) * plot }
        let layers: [(String, String, (FleetChart.Point) -> Int)] = [
            ("online", colour(.online), { $0.online }), ("unknown", colour(.unknown), { $0.unknown }),
            ("offline", colour(.offline), { $0.offline }), ("no data", colour(.noData), { $0.noData }),
        ]
        var svg =
            "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(html(label))\">"
        var below = Array(repeating: 0, count: points.count)
        for (name, fill, count) in layers {
            let above = zip(below, points).map { $0 + count($1) }
            guard zip(above, below).contains(where: { $0 != $1 }) else { continue }
            var path = ""
            for (index, point) in points.enumerated() {
                path += "\(index == 0 ? "M" : "L")\(format(x(point.at))),\(format(y(above[index]))) "
            }
            for (index, point) in points.enumerated().reversed() {
                path += "L\(format(x(point.at))),\(format(y(below[index]))) "
            }
            let peak = zip(above, below).map { $0 - $1 }.max() ?? 0
            svg +=
                "<path d=\"\(path)Z\" fill=\"\(fill)\" fill-opacity=\"0.85\"><title>\(name): up to \(peak) devices</title></path>"
            below = above
        }
        svg +=
            "<line x1=\"0\" y1=\"\(format(top + plot))\" x2=\"\(Int(width))\" y2=\"\(format(top + plot))\" stroke=\"currentColor\" stroke-opacity=\"0.3\"/>"
        svg +=
            "<text x=\"0\" y=\"\(Int(height) - 4)\" font-size=\"11\" fill=\"currentColor\">\(html(day(first.at)))</text>"
        svg +=
            "<text x=\"\(Int(width))\" y=\"\(Int(height) - 4)\" font-size=\"11\" text-anchor=\"end\" fill=\"currentColor\">\(html(day(last.at)))</text>"
        svg += "<text x=\"2\" y=\"\(Int(top) + 10)\" font-size=\"11\" fill=\"currentColor\">\(maximum) devices</text>"
        return svg + "</svg>"
    }

    /// One device's status over the window as a strip of coloured spans.
    static func timeline(_ spans: [StatusTimeline.Span], window: DateInterval, label: String) -> String {
        let width = 600.0, height = 28.0
        var svg =
            "<svg class=\"bar\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"\(html(label))\">"
        for item in spans where item.kind != .unlisted {
            let x = item.interval.start.timeIntervalSince(window.start) / window.duration * width
            let w = max(1, item.interval.duration / window.duration * width)
            let title =
                "\(item.kind.rawValue): \(span(item.interval)) (\(DurationText.format(seconds: item.interval.duration)))"
            svg +=
                "<rect x=\"\(format(x))\" y=\"0\" width=\"\(format(w))\" height=\"\(Int(height))\" fill=\"\(colour(item.kind))\"><title>\(html(title))</title></rect>"
        }
        return svg + "</svg>"
    }

    static func legend() -> String {
        let items: [(String, String)] = [
            ("#2e7d32", "≥ 99.9% / online"), ("#7cb342", "≥ 99%"), ("#f9a825", "≥ 95% / unknown"),
            ("#c62828", "< 95% / offline"), ("#9aa4af", "no data"),
        ]
        return "<p class=\"legend muted\">"
            + items.map { "<span><i style=\"background:\($0.0)\"></i>\($0.1)</span>" }.joined(separator: " ") + "</p>"
    }

    static func span(_ interval: DateInterval) -> String { "\(day(interval.start)) – \(day(interval.end))" }

    /// Each part's time as an uptime bar's tooltip shows it, made safe once.
    static func partTimes(_ parts: [DateInterval]) -> [String] { parts.map { html(span($0)) } }

    /// `Nov 30 14:00` (UTC, the API's clock).
    static func day(_ date: Date) -> String {
        let text = Timestamp.format(date)  // 2026-11-30T14:00:00.000Z
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = text.split(separator: "T")
        let ymd = parts[0].split(separator: "-")
        guard ymd.count == 3, let month = Int(ymd[1]), (1...12).contains(month) else { return text }
        return "\(months[month - 1]) \(Int(ymd[2]) ?? 0) \(parts[1].prefix(5))"
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Text made safe inside HTML and SVG elements and attribute values.
    static func html(_ text: String) -> String { Markup.html(InertText.line(text)) }
}
