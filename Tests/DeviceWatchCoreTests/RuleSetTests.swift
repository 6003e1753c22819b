import DeviceWatchCore
import Foundation
import PropertyBased
import Testing

@Suite("RuleSet evaluation")
struct RuleSetTests {
    static let now = Timestamp.parse("2026-11-28T12:00:00Z")!

    static func ago(_ seconds: Double) -> Date { now.addingTimeInterval(-seconds) }

    static let fleet: [Device] = [
        Device(
            id: "cam-1", name: "line-3-cam", status: .offline, lastHeartbeat: ago(17 * 60), hostname: "jetson-01",
            rfdmVersion: "1.2.3", type: "jetson", tags: ["production", "site-a"], createdAt: ago(30 * 86_400)),
        Device(
            id: "cam-2", name: "dock-cam", status: .online, lastHeartbeat: ago(30), rfdmVersion: "1.10.0",
            type: "jetson",
            tags: ["production", "site-b"]),
        Device(id: "cam-3", name: "gate-cam", status: .unknown, tags: ["staging"], createdAt: ago(45 * 60)),
        Device(
            id: "cam-4", name: "lab-cam", status: .offline, lastHeartbeat: ago(15 * 60), rfdmVersion: "nightly",
            type: "x86",
            tags: ["production", "retired"]),
        Device(
            id: "cam-5", name: "future-cam", status: .online, lastHeartbeat: now.addingTimeInterval(600),
            rfdmVersion: "v1.4.0-rc.1"),
        Device(id: "cam-6", status: .unknown),
    ]

    func matches(_ predicate: Condition, firstSeen: [String: Date] = [:]) -> [String] {
        let rules = RuleSet([Rule(id: "r", condition: predicate)])
        return rules.evaluate(workspace: "acme", devices: Self.fleet, firstSeen: firstSeen, at: Self.now).findings.map(
            \.deviceID)
    }

    @Test(arguments: [
        (Condition.offlineFor(.seconds(900)), ["cam-1", "cam-4"]),  // cam-4 exactly at the threshold
        (.offlineFor(.seconds(901)), ["cam-1"]),
        (.offlineFor(.seconds(0)), ["cam-1", "cam-2", "cam-4", "cam-5"]),  // a future heartbeat is age 0
        (.unknownFor(.seconds(1800)), ["cam-3"]),  // cam-6 has no created_at and was never seen
        (.rfdmVersionBelow(Version("1.4.0")!), ["cam-1", "cam-5"]),  // 1.10.0 is above; nightly never matches
        (.status(["offline", "unknown"]), ["cam-1", "cam-3", "cam-4", "cam-6"]),
        (.tags(TagFilter(allOf: [Glob("production")], noneOf: [Glob("retired")])), ["cam-1", "cam-2"]),
        (.tags(TagFilter(anyOf: [Glob("site-*"), Glob("staging")])), ["cam-1", "cam-2", "cam-3"]),
        (.tags(TagFilter(noneOf: [Glob("*")])), ["cam-5", "cam-6"]),
        (.field(.name, [Glob("*-cam")]), ["cam-1", "cam-2", "cam-3", "cam-4", "cam-5"]),
        (.field(.type, [Glob("x86")]), ["cam-4"]),
        (.field(.hostname, [Glob("jetson-??")]), ["cam-1"]),
        (.field(.id, [Glob("cam-1"), Glob("cam-6")]), ["cam-1", "cam-6"]),
        (.all([.status(["offline"]), .tags(TagFilter(allOf: [Glob("site-a")]))]), ["cam-1"]),
        (.any([.field(.type, [Glob("x86")]), .unknownFor(.seconds(60))]), ["cam-3", "cam-4"]),
        (.not(.tags(TagFilter(allOf: [Glob("production")]))), ["cam-3", "cam-5", "cam-6"]),
    ])
    func eachPredicateSelectsExactlyItsDevices(predicate: Condition, expected: [String]) {
        #expect(matches(predicate) == expected)
    }

    @Test func unknownForFallsBackToFirstSeen() {
        #expect(matches(.unknownFor(.seconds(1800)), firstSeen: ["cam-6": Self.ago(3600)]) == ["cam-3", "cam-6"])
        #expect(matches(.unknownFor(.seconds(1800)), firstSeen: ["cam-6": Self.ago(60)]) == ["cam-3"])
    }

    @Test func unparseableAndMissingVersionsAreReportedOnlyWhenARuleComparesVersions() {
        let compare = RuleSet([Rule(id: "v", condition: .rfdmVersionBelow(Version("1.4.0")!))])
        let evaluation = compare.evaluate(workspace: "acme", devices: Self.fleet, at: Self.now)
        #expect(evaluation.unversionedDevices.map(\.deviceID) == ["cam-3", "cam-4", "cam-6"])
        #expect(evaluation.unversionedDevices.first { $0.deviceID == "cam-4" }?.raw == "nightly")
        let other = RuleSet([Rule(id: "s", condition: .status(["offline"]))])
        #expect(other.evaluate(workspace: "acme", devices: Self.fleet, at: Self.now).unversionedDevices.isEmpty)
    }

    @Test func findingsExplainWhyAndRenderTheSummary() throws {
        let rule = Rule(
            id: "production-offline",
            summary: "{{device.name}} has been offline for {{offline_for}} ({{rule.severity}}, {{workspace}})",
            severity: .critical, selector: .tags(TagFilter(allOf: [Glob("production")], noneOf: [Glob("retired")])),
            condition: .offlineFor(.seconds(900)))
        let rules = RuleSet([rule])
        let evaluation = rules.evaluate(workspace: "acme", devices: Self.fleet, at: Self.now)
        let finding = try #require(evaluation.findings.first)
        #expect(evaluation.findings.count == 1)
        #expect(finding.deviceID == "cam-1")
        #expect(finding.severity == .critical)
        #expect(
            rules.reasons(for: finding) == [
                "tags include production", "tags include none of retired", "last heartbeat 17m ago (at least 15m)",
            ])
        #expect(rules.summary(of: finding) == "line-3-cam has been offline for 17m (critical, acme)")
        #expect(evaluation.matchCounts == ["production-offline": 1])
    }

    @Test func summariesAreNotHTMLEscaped() throws {
        let devices = [Device(id: "x", name: "<b>&cam</b>", status: .offline, lastHeartbeat: Self.ago(3600))]
        let rules = RuleSet([Rule(id: "r", summary: "{{device.name}}", condition: .offlineFor(.seconds(60)))])
        let finding = try #require(rules.evaluate(workspace: "w", devices: devices, at: Self.now).findings.first)
        #expect(rules.summary(of: finding) == "<b>&cam</b>")
    }

    @Test func explanationsNameTheAlternativeThatHeldAndNegations() throws {
        let rule = Rule(
            id: "r",
            condition: .all([
                .any([.field(.type, [Glob("x86")]), .status(["unknown"])]), .not(.field(.name, [Glob("lab-*")])),
            ]))
        let rules = RuleSet([rule])
        let findings = rules.evaluate(workspace: "w", devices: Self.fleet, at: Self.now).findings
        #expect(findings.map(\.deviceID) == ["cam-3", "cam-6"])
        #expect(rules.reasons(for: findings[0]) == ["status is unknown", "not (name matches \"lab-*\")"])
    }

    @Test func findingsAreInRuleOrderThenDeviceOrder() {
        let rules = RuleSet([
            Rule(id: "b-offline", condition: .status(["offline"])),
            Rule(id: "a-unknown", condition: .status(["unknown"])),
        ])
        let findings = rules.evaluate(workspace: "w", devices: Self.fleet, at: Self.now).findings
        #expect(
            findings.map { "\($0.ruleID)/\($0.deviceID)" } == [
                "b-offline/cam-1", "b-offline/cam-4", "a-unknown/cam-3", "a-unknown/cam-6",
            ])
    }

    @Test func evaluationIsDeterministic() async {
        let predicates: [Condition] = [
            .offlineFor(.seconds(600)), .status(["unknown"]), .tags(TagFilter(anyOf: [Glob("site-*")])),
            .rfdmVersionBelow(Version("1.4.0")!), .not(.field(.name, [Glob("*dock*")])),
        ]
        let rules = RuleSet(predicates.enumerated().map { Rule(id: "r\($0.offset)", condition: $0.element) })
        let ages = Gen.int(in: 0...7200).array(of: 0...40)
        await propertyCheck(input: ages) { ages in
            let devices = ages.enumerated().map { index, age in
                Device(
                    id: "d\(index)", name: index % 3 == 0 ? "dock-\(index)" : "cam-\(index)",
                    status: age % 5 == 0 ? .unknown : .online,
                    lastHeartbeat: age % 5 == 0 ? nil : Self.ago(Double(age)),
                    rfdmVersion: ["1.2.0", "1.10.1", nil, "x"][index % 4], tags: index % 2 == 0 ? ["site-a"] : [])
            }
            let first = rules.evaluate(workspace: "w", devices: devices, at: Self.now)
            let second = rules.evaluate(workspace: "w", devices: devices, at: Self.now)
            #expect(first.findings == second.findings)
            #expect(first.matchCounts == second.matchCounts)
        }
    }
}

@Suite("Compiled evaluation agrees with the rule language's plain reading")
struct CompiledAgreementTests {
    static let now = Timestamp.parse("2026-11-28T12:00:00Z")!

    static let conditions: [Condition] = [
        .offlineFor(.seconds(600)), .unknownFor(.seconds(1200)), .rfdmVersionBelow(Version("1.4.0")!),
        .status(["offline"]), .status(["unknown", "rebooting"]),
        .tags(TagFilter(allOf: [Glob("prod*")], noneOf: [Glob("retired")])),
        .tags(TagFilter(anyOf: [Glob("site-?"), Glob("lab")])),
        .field(.name, [Glob("cam-*")]), .field(.type, [Glob("jetson"), Glob("x86")]),
    ]

    static let condition: Generator<Condition, some SendableSequenceType> = Gen.int(in: 0...(conditions.count - 1))
        .array(of: 1...3).map { indices -> Condition in
            let leaves = indices.map { conditions[$0] }
            switch indices.count {
            case 1: return leaves[0]
            case 2: return .any([leaves[0], .not(leaves[1])])
            default: return .all([leaves[0], .any([leaves[1], leaves[2]])])
            }
        }

    static let device = Gen.int(in: 0...10_000).map { seed -> Device in
        var random = seed
        func pick<T>(_ options: [T]) -> T {
            random = (random &* 1_103_515_245 &+ 12_345) & 0x7FFF_FFFF
            return options[random % options.count]
        }
        let heartbeat: Date? = pick([
            nil, now.addingTimeInterval(-300), now.addingTimeInterval(-600), now.addingTimeInterval(-5000),
            now.addingTimeInterval(60),
        ])
        return Device(
            id: "d\(seed)", name: pick(["cam-1", "dock", nil]),
            status: pick([.online, .offline, .unknown, .other("rebooting"), nil]),
            lastHeartbeat: heartbeat, rfdmVersion: pick(["1.2.0", "1.4.0", "1.10.0", "v1.4.0-rc.1", "nightly", nil]),
            type: pick(["jetson", "x86", nil]),
            tags: pick([[], ["production"], ["prod-eu", "site-a"], ["production", "retired", "lab"], ["site-bb"]]),
            createdAt: pick([nil, now.addingTimeInterval(-1200), now.addingTimeInterval(-60)]))
    }

    @Test func compiledAndDirectEvaluationAgree() async {
        await propertyCheck(input: Self.condition, Self.device.array(of: 1...20)) { condition, generated in
            // Ids unique by position: the generator may draw the same seed twice.
            let devices = generated.enumerated().map { index, device in
                var device = device
                device.id = "d\(index)"
                return device
            }
            let rules = RuleSet([Rule(id: "r", condition: condition)])
            let firstSeen = Dictionary(
                uniqueKeysWithValues: devices.map { ($0.id, Self.now.addingTimeInterval(-1500)) })
            let compiled = rules.evaluate(workspace: "w", devices: devices, firstSeen: firstSeen, at: Self.now).findings
                .map(\.deviceID)
            let direct = devices.filter { device in
                let seen = device.lastHeartbeat == nil && device.createdAt == nil ? firstSeen[device.id] : nil
                return condition.holds(for: device, at: Self.now, firstSeen: seen)
            }.map(\.id)
            #expect(compiled == direct, "\(condition.summary)")
        }
    }

    @Test func moreThanSixtyFourAtomsStillEvaluateCorrectly() {
        let tags = (0..<100).map { "t\($0)" }
        let rules = RuleSet(tags.map { Rule(id: $0, condition: .tags(TagFilter(allOf: [Glob($0)]))) })
        let devices = [Device(id: "a", tags: ["t3", "t70", "t99"]), Device(id: "b", tags: ["t64"])]
        let findings = rules.evaluate(workspace: "w", devices: devices, at: Self.now).findings
        #expect(findings.map { "\($0.ruleID)/\($0.deviceID)" } == ["t3/a", "t64/b", "t70/a", "t99/a"])
    }
}
