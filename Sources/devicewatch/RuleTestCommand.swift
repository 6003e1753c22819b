import ArgumentParser
import DeviceWatch
import DeviceWatchCore
import Foundation
import RuleTesting

/// `devicewatch test`: rule unit tests.
struct RuleTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run rule unit tests: device states over time and the alerts expected to fire.",
        discussion: """
            Each test file names rule files and cases; a case describes devices over time (simulator \
            device definitions, or device lists at given times) and, at chosen times, the exact set of \
            (rule, device) pairs expected to be firing. Folders are searched for *.json files. Exit 0 \
            when every case passes, 1 otherwise. The format is described in the README and in \
            rules/schema/rule-tests.schema.json.
            """)

    @Argument(help: "Test files or folders.")
    var paths: [String]

    func run() throws {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CLIFailure(message: "\(path) does not exist", code: 2)
            }
            if isDirectory.boolValue {
                let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += entries.filter { $0.hasSuffix(".json") }.sorted().map {
                    (path as NSString).appendingPathComponent($0)
                }
            } else {
                files.append(path)
            }
        }
        guard !files.isEmpty else {
            throw CLIFailure(message: "no test files (*.json) in \(paths.joined(separator: ", "))", code: 2)
        }

        var passed = 0, failed = 0, broken = 0
        for file in files {
            let suite: RuleTestSuite, rules: RuleSet
            do {
                (suite, rules) = try RuleTestLoader.load(file)
            } catch {
                for diagnostic in error.diagnostics { print(diagnostic.description) }
                broken += 1
                continue
            }
            for testCase in suite.cases {
                let result = RuleTestRunner.run(testCase, rules: rules)
                if result.passed {
                    passed += 1
                    print("PASS \(file): \(result.name)")
                } else {
                    failed += 1
                    print("FAIL \(file): \(result.name)")
                    for line in result.failures { print("    \(line)") }
                }
            }
        }
        var summary = "\(passed) passed, \(failed) failed"
        if broken > 0 { summary += "; \(broken) test file\(broken == 1 ? "" : "s") could not be read" }
        print(summary)
        if failed > 0 || broken > 0 { throw CLIFailure(message: "rule tests failed", code: 1) }
    }
}
