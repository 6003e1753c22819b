// The dispatcher alone, over a backlog, in two steps run as separate processes (so delivery's
// memory is its own):
//   OutboxBacklog fill ROWS PATH   a fresh state store at PATH with ROWS pending notifications
//                                   (one alert each, each its own group)
//   OutboxBacklog deliver PATH URL  delivers them all to a webhook receiver at URL and prints one
//                                   JSON line: resident memory once the store is open, the peak
//                                   during delivery, and the CPU time delivery took
// Run by Benchmarks/outbox-backlog for several sizes: flat memory means the dispatcher never holds
// the backlog, only a batch of it.
import CurlHTTP
import DeviceWatch
import DeviceWatchCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

func residentMB(_ field: String) -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first { !$0.isEmpty } ?? "0") ?? 0) / 1024
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(
        usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

let arguments = CommandLine.arguments
switch (arguments.count, arguments.dropFirst().first) {
case (4, "fill") where Int(arguments[2]) != nil:
    try await fill(rows: Int(arguments[2])!, path: arguments[3])
case (4, "deliver"):
    try await deliver(path: arguments[2], sinkURL: arguments[3])
default:
    FileHandle.standardError.write(Data("usage: OutboxBacklog fill ROWS PATH | deliver PATH SINK-URL\n".utf8))
    exit(2)
}

func fill(rows: Int, path: String) async throws {
    let store = try SQLiteStateStore(path: path)
    let now = Date()
    var written = 0
    while written < rows {
        var changes = StateChanges()
        for index in written..<min(rows, written + 5000) {
            let device = Device(
                id: "dev-\(index)", name: "camera \(index)", status: .offline,
                lastHeartbeat: now.addingTimeInterval(-3600),
                hostname: "jetson-\(index)", rfdmVersion: "1.4.0", type: "jetson", tags: ["production"])
            let key = AlertKey(workspace: "bench", ruleID: "offline", deviceID: device.id)
            let snapshot = AlertSnapshot(
                key: key,
                status: .firing,
                severity: .critical,
                labels: ["rule": "offline", "workspace": "bench", "device": device.id, "severity": "critical"],
                startsAt: now.addingTimeInterval(-3000), endsAt: nil, resolveReason: nil, device: device,
                evaluatedAt: now, firstSeen: nil,
                message: nil)
            changes.intents.append(
                NotificationIntent(
                    id: "n-\(index)", receiver: "sink", groupKey: "{device=\"\(device.id)\"}",
                    groupLabels: ["device": device.id],
                    firing: [snapshot], resolved: [], reason: .new, createdAt: now))
        }
        try await store.commit(changes, at: now)
        written += changes.intents.count
    }
}

func deliver(path: String, sinkURL: String) async throws {
    let store = try SQLiteStateStore(path: path)
    let pending = try await store.outboxCounts()[.pending] ?? 0
    let before = residentMB("VmRSS")
    let cpuBefore = cpuSeconds()
    let started = Date()

    let rules = RuleSet([
        Rule(id: "offline", severity: .critical, condition: .offlineFor(.seconds(300)), notify: ["sink"])
    ])
    let receiver = WebhookReceiver(
        name: "sink", url: Secret(sinkURL), rateLimit: .init(perSecond: 1_000_000, burst: 1_000_000))
    let http = CurlHTTPClient()
    let dispatcher = Dispatcher(
        store: store, http: http, receivers: ["sink": receiver], context: RenderContext(rules: rules))
    var delivered = 0
    while delivered < pending {
        let count = await dispatcher.deliverDue()
        if count == 0 { break }
        delivered += count
    }
    let seconds = Date().timeIntervalSince(started)
    let result: [String: Any] = [
        "rows": pending, "delivered": delivered, "rss_before_mb": before, "peak_mb": residentMB("VmHWM"),
        "growth_mb": residentMB("VmHWM") - before, "dispatch_cpu_s": cpuSeconds() - cpuBefore, "seconds": seconds,
        "per_s": Double(delivered) / max(seconds, 1e-9),
    ]
    print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    http.shutdown()
}
