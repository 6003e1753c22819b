import DeviceWatchCore
import Foundation
import Glibc

/// A configuration with its rule files read and compiled, ready to run.
public struct LoadedConfiguration: Sendable {
    public var configuration: Configuration
    /// The configuration file, as given.
    public var file: String
    /// The folder relative paths in the configuration are resolved against.
    public var directory: String
    /// The rule files read, in order.
    public var ruleFiles: [String]
    public var rules: RuleSet

    /// A path from the configuration, resolved against its folder.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") || directory == "." ? path : (directory as NSString).appendingPathComponent(path)
    }
}

/// Every problem found while loading; nothing of a configuration with problems is used.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Reads `devicewatch.json`, its rule files and templates, and checks them together.
public enum ConfigurationLoader {
    /// Loads and validates everything; throws every problem at once.
    public static func load(configPath: String) throws(ConfigurationError) -> LoadedConfiguration {
        let text: String
        switch readSource(configPath, what: "the configuration file (does it exist? pass another with --config)") {
        case .failure(let problem): throw ConfigurationError(diagnostics: [problem])
        case .success(let decoded): text = decoded
        }
        let (parsed, configDiagnostics) = ConfigurationParser.parse(text, file: configPath)
        var diagnostics = configDiagnostics
        guard let configuration = parsed else { throw ConfigurationError(diagnostics: diagnostics) }
        let directory =
            (configPath as NSString).deletingLastPathComponent.isEmpty
            ? "." : (configPath as NSString).deletingLastPathComponent

        var files: [String] = []
        for (index, pattern) in configuration.ruleFiles.enumerated() {
            let matches = expand(pattern, relativeTo: directory)
            if matches.isEmpty {
                diagnostics.append(
                    Diagnostic(
                        file: configPath, path: "rule_files[\(index)]",
                        message: pattern.contains("*") || pattern.contains("?")
                            ? "no file matches \"\(pattern)\" (relative to \(directory))"
                            : "\"\(pattern)\" does not exist (relative to \(directory))"))
            }
            for match in matches where !files.contains(match) { files.append(match) }
        }

        let receivers = Set(configuration.receivers.keys)
        var rules: [Rule] = []
        var definedIn: [String: Rule] = [:]
        for file in files {
            let ruleText: String
            switch readSource(file, what: "the rule file") {
            case .failure(let problem):
                diagnostics.append(problem)
                continue
            case .success(let decoded):
                ruleText = decoded
            }
            let (fileRules, ruleDiagnostics) = RuleParser.parse(
                ruleText, file: file, receivers: receivers,
                timeIntervals: Set(configuration.defaults.timeIntervals.named.keys))
            diagnostics += ruleDiagnostics
            for rule in fileRules {
                if let other = definedIn[rule.id] {
                    let there = other.definedAt.map { "\(other.file):\($0)" } ?? other.file
                    diagnostics.append(
                        Diagnostic(
                            file: file, ruleID: rule.id, path: "rules", line: rule.definedAt?.line,
                            column: rule.definedAt?.column,
                            message:
                                "rule id \"\(rule.id)\" is also defined at \(there); rule ids must be unique across files"
                        ))
                    continue
                }
                definedIn[rule.id] = rule
                rules.append(rule)
            }
        }

        // Receiver templates must parse and render for sample notifications (firing, resolved, 1 and 500 alerts).
        let ruleSet = RuleSet(rules)
        for (name, receiver) in configuration.receivers.sorted(by: { $0.key < $1.key }) {
            guard let template = receiver.template else { continue }
            let path =
                template.hasPrefix("/") || directory == "."
                ? template : (directory as NSString).appendingPathComponent(template)
            do {
                for problem in try TemplateOverride(path: path).check(rules: ruleSet) {
                    diagnostics.append(
                        Diagnostic(file: configPath, path: "receivers.\(name).template", message: problem))
                }
            } catch {
                diagnostics.append(
                    Diagnostic(file: configPath, path: "receivers.\(name).template", message: "\(error)"))
            }
        }

        guard diagnostics.isEmpty else { throw ConfigurationError(diagnostics: diagnostics) }
        return LoadedConfiguration(
            configuration: configuration, file: configPath, directory: directory, ruleFiles: files, rules: ruleSet)
    }

    /// The files a path or glob names, sorted; a plain path is returned only if it exists.
    public static func expand(_ pattern: String, relativeTo directory: String) -> [String] {
        let full =
            pattern.hasPrefix("/") || directory == "."
            ? pattern : (directory as NSString).appendingPathComponent(pattern)
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(full, 0, nil, &result) == 0 else { return [] }
        var paths: [String] = []
        for index in 0..<Int(result.gl_pathc) {
            if let pointer = result.gl_pathv[index] { paths.append(String(cString: pointer)) }
        }
        var isDirectory: ObjCBool = false
        return paths.filter {
            FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && !isDirectory.boolValue
        }.sorted()
    }

    /// The file's text, or the problem: it cannot be read (`what` names it), or a byte is not UTF-8
    /// (with its line and column).
    public static func readSource(_ path: String, what: String) -> Result<String, Diagnostic> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(Diagnostic(file: path, path: "", message: "cannot read \(what)"))
        }
        return SourceText.decode(Array(data)).mapError {
            Diagnostic(file: path, path: "", line: $0.line, column: $0.column, message: "not UTF-8: \($0.description)")
        }
    }
}
