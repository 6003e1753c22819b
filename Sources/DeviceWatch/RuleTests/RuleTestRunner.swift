import DeviceWatchCore
import Foundation

/// Runs rule test cases: evaluates the rules every `evaluate_every` from the case's start, tracks
/// what fires (with `for` and `keep_firing_for`), and compares with each expectation.
public enum RuleTestRunner {
    public struct CaseResult: Sendable {
        public var name: String
        /// Empty when the case passed; otherwise one line per difference.
        public var failures: [String]
        public var passed: Bool { failures.isEmpty }
    }

    public static func run(_ testCase: RuleTestSuite.Case, rules: RuleSet) -> CaseResult {
        var tracker = FiringTracker()
        var failures: [String] = []
        var time = testCase.start
        var firstSeen: [String: Date] = [:]
        func evaluate(at instant: Date) {
            let devices = testCase.devices.devices(at: instant)
            for device in devices where firstSeen[device.id] == nil { firstSeen[device.id] = instant }
            let evaluation = rules.evaluate(workspace: testCase.workspace, devices: devices, firstSeen: firstSeen, at: instant)
            tracker.observe(evaluation.findings, rules: rules.rules, at: instant)
        }
        for expectation in testCase.expectations {
            while time < expectation.at {
                evaluate(at: time)
                time = time.addingTimeInterval(testCase.evaluateEvery)
            }
            evaluate(at: expectation.at)
            if time == expectation.at { time = time.addingTimeInterval(testCase.evaluateEvery) }
            failures += compare(expectation, tracker: tracker, rules: rules)
        }
        return CaseResult(name: testCase.name, failures: failures)
    }

    static func compare(_ expectation: RuleTestSuite.Expectation, tracker: FiringTracker, rules: RuleSet) -> [String] {
        let known = Set(rules.rules.map(\.id))
        let when = "at \(expectation.atText) (\(Timestamp.format(expectation.at)))"
        var failures: [String] = []
        for rule in Set(expectation.firing.map(\.rule)).union(expectation.rules ?? []).sorted() where !known.contains(rule) {
            failures.append("\(when): the rule files have no rule \"\(rule)\"")
        }
        let considered = { (key: FiringTracker.Key) in expectation.rules?.contains(key.ruleID) ?? true }
        let actual = Set(tracker.firing.filter(considered))
        let expected = Set(expectation.firing.map { FiringTracker.Key(ruleID: $0.rule, deviceID: $0.device) })
        for key in expected.subtracting(actual).sorted() {
            let state = tracker.states[key]
            let why = state.map { "pending since \(Timestamp.format($0.activeSince))" } ?? "its condition does not hold"
            failures.append("\(when): expected \(key) to be firing, but it is not (\(why))")
        }
        for key in actual.subtracting(expected).sorted() {
            let reasons = tracker.states[key].map { rules.reasons(for: $0.finding).joined(separator: "; ") } ?? ""
            failures.append("\(when): \(key) is firing but was not expected (because \(reasons))")
        }
        for alert in expectation.firing {
            let key = FiringTracker.Key(ruleID: alert.rule, deviceID: alert.device)
            guard let summary = alert.summary, actual.contains(key), let got = tracker.states[key].map({ rules.summary(of: $0.finding) }), got != summary else { continue }
            failures.append("\(when): the summary of \(key) is \"\(got)\", expected \"\(summary)\"")
        }
        return failures
    }
}
