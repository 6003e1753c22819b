import DeviceWatchCore
import Foundation

/// Runs rule test cases through the worker's own cycle (``AlertCycle``: evaluation, the alert
/// lifecycle and notification planning), every `evaluate_every` from the case's start and at
/// each expectation.
public enum RuleTestRunner {
    public struct CaseResult: Sendable {
        public var name: String
        /// Empty when the case passed; otherwise one line per difference.
        public var failures: [String]
        public var passed: Bool { failures.isEmpty }
    }

    public static func run(_ testCase: RuleTestSuite.Case, rules: RuleSet) -> CaseResult {
        var state = AlertState()
        let settings = AlertCycle.Settings(rules: rules, defaults: testCase.defaults)
        var failures: [String] = []
        var time = testCase.start
        var sent: [NotificationIntent] = []
        func cycle(at instant: Date) {
            let poll = AlertCycle.Input.poll(
                workspace: testCase.workspace, devices: testCase.devices.devices(at: instant), at: instant)
            sent += AlertCycle.run(&state, poll, settings: settings, silences: testCase.silences).intents
        }
        for expectation in testCase.expectations {
            while time < expectation.at {
                cycle(at: time)
                time = time + testCase.evaluateEvery
            }
            cycle(at: expectation.at)
            if time == expectation.at { time = time + testCase.evaluateEvery }
            if let firing = expectation.firing {
                failures += compareFiring(expectation, firing, book: state.book, rules: rules)
            }
            if let expected = expectation.notifications {
                failures += compareNotifications(expectation, expected: expected, sent: sent)
            }
            sent.removeAll()
        }
        // A mass failure is summarised, not printed a line per device.
        if failures.count > 12 {
            failures = Array(failures.prefix(10)) + ["... and \(failures.count - 10) more differences"]
        }
        return CaseResult(name: testCase.name, failures: failures)
    }

    static func when(_ expectation: RuleTestSuite.Expectation) -> String {
        "at \(expectation.atText) (\(Timestamp.format(expectation.at)))"
    }

    static func compareFiring(
        _ expectation: RuleTestSuite.Expectation, _ expectedFiring: [RuleTestSuite.ExpectedAlert], book: AlertBook,
        rules: RuleSet
    ) -> [String] {
        let known = Set(rules.rules.map(\.id))
        var failures: [String] = []
        for rule in Set(expectedFiring.map(\.rule)).union(expectation.rules ?? []).sorted() where !known.contains(rule)
        {
            failures.append("\(when(expectation)): the rule files have no rule \"\(rule)\"")
        }
        for alert in expectedFiring {
            guard let rule = rules.rule(alert.rule), rule.isFleet != alert.isGroup else { continue }
            failures.append(
                rule.isFleet
                    ? "\(when(expectation)): \(rule.id) is a fleet rule: name its alert's \"group\", not a \"device\""
                    : "\(when(expectation)): \(rule.id) judges devices: name its alert's \"device\", not a \"group\"")
        }
        let firing = book.alerts.values.filter {
            $0.state == .firing && !$0.isMeta && (expectation.rules?.contains($0.key.ruleID) ?? true)
        }
        let actual = Dictionary(
            firing.map { ("\($0.key.ruleID) / \($0.key.deviceID)", $0) }, uniquingKeysWith: { first, _ in first })
        let expected = Set(expectedFiring.map { "\($0.rule) / \($0.device)" })
        for name in expected.subtracting(actual.keys).sorted() {
            let pending = book.alerts.values.first {
                "\($0.key.ruleID) / \($0.key.deviceID)" == name && $0.state == .pending
            }
            let why =
                pending.map { "pending since \(Timestamp.format($0.activeSince))" } ?? "its condition does not hold"
            failures.append("\(when(expectation)): expected \(name) to be firing, but it is not (\(why))")
        }
        for name in Set(actual.keys).subtracting(expected).sorted() {
            let reasons = actual[name].map { rules.reasons(for: $0.finding).joined(separator: "; ") } ?? ""
            failures.append("\(when(expectation)): \(name) is firing but was not expected (because \(reasons))")
        }
        for alert in expectedFiring {
            let name = "\(alert.rule) / \(alert.device)"
            guard let summary = alert.summary, let instance = actual[name] else { continue }
            let got = rules.summary(of: instance.finding)
            if got != summary {
                failures.append("\(when(expectation)): the summary of \(name) is \"\(got)\", expected \"\(summary)\"")
            }
        }
        return failures
    }

    /// The notifications planned since the previous expectation, against the expected ones (as multisets).
    static func compareNotifications(
        _ expectation: RuleTestSuite.Expectation, expected: [RuleTestSuite.ExpectedNotification],
        sent: [NotificationIntent]
    ) -> [String] {
        var unmatched = sent
        var failures: [String] = []
        for wanted in expected {
            if let index = unmatched.firstIndex(where: { wanted.matches($0) }) {
                unmatched.remove(at: index)
            } else {
                failures.append("\(when(expectation)): expected a notification \(wanted), but none was sent")
            }
        }
        for intent in unmatched {
            failures.append("\(when(expectation)): an unexpected notification was sent: \(describe(intent))")
        }
        return failures
    }

    static func describe(_ intent: NotificationIntent) -> String {
        var text = "to \(intent.receiver) (\(intent.reason.rawValue))"
        if !intent.firing.isEmpty { text += ", firing: \(intent.firing.map(\.key.deviceID).joined(separator: ", "))" }
        if !intent.resolved.isEmpty {
            text += ", resolved: \(intent.resolved.map(\.key.deviceID).joined(separator: ", "))"
        }
        return text
    }
}
