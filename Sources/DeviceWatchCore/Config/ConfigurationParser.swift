/// Reads `devicewatch.json`, reporting every problem with its JSON path, line and column.
public enum ConfigurationParser {
    static let topKeys = [
        "api", "workspaces", "rule_files", "receivers", "defaults", "meta_receivers", "state", "server", "routes",
        "time_intervals",
        "allow_inline_secrets", "heartbeat", "history",
    ]

    /// Parses a configuration file's text; the configuration is nil when there are problems.
    public static func parse(_ text: String, file: String) -> (configuration: Configuration?, diagnostics: [Diagnostic])
    {
        let log = DiagnosticLog(file: file)
        guard let reader = NodeReader.parsing(text, log: log) else { return (nil, log.diagnostics) }
        guard let fields = reader.object(known: topKeys) else { return (nil, log.diagnostics) }
        var config = Configuration()
        config.allowInlineSecrets = fields["allow_inline_secrets"]?.bool() ?? false

        if let api = fields["api"],
            let parts = api.object(known: ["base_url", "api_key_env", "api_key_file", "timeout"])
        {
            if let url = httpURL(parts, "base_url") { config.api.baseURL = url }
            if let key = secret(
                parts, env: "api_key_env", file: "api_key_file", inline: nil, allowInline: false, owner: api)
            {
                config.api.apiKey = key
            }
            if let timeout = parts["timeout"]?.duration() {
                if timeout > .zero {
                    config.api.timeout = timeout
                } else {
                    parts["timeout"]?.report("timeout must be longer than 0s")
                }
            }
        }

        if let workspaces = fields["workspaces"] {
            var seen: Set<String> = []
            for item in workspaces.array() ?? [] {
                guard let parts = item.object(known: ["id", "poll_every", "api_key_env", "api_key_file"]) else {
                    continue
                }
                guard let id = parts["id"]?.string() else {
                    if parts["id"] == nil { item.report("a workspace needs an \"id\" (its URL slug)") }
                    continue
                }
                guard !id.isEmpty, !id.contains("/") else {
                    parts["id"]?.report("a workspace id is the workspace's URL slug, without slashes")
                    continue
                }
                guard seen.insert(id).inserted else {
                    parts["id"]?.report("workspace \"\(id)\" is listed twice")
                    continue
                }
                var workspace = Configuration.Workspace(id: id)
                workspace.apiKey = secret(
                    parts, env: "api_key_env", file: "api_key_file", inline: nil, allowInline: false, owner: item)
                if let every = parts["poll_every"]?.duration() {
                    if every >= .seconds(1) {
                        workspace.pollEvery = every
                    } else {
                        parts["poll_every"]?.report("poll_every must be at least 1s")
                    }
                }
                config.workspaces.append(workspace)
            }
        } else {
            reader.report("the configuration needs \"workspaces\", e.g. [{\"id\": \"my-workspace\"}]")
        }

        if let ruleFiles = fields["rule_files"] {
            config.ruleFiles = ruleFiles.stringOrList("a path or glob, or a list of them") ?? []
        } else {
            reader.report("the configuration needs \"rule_files\", e.g. [\"rules/*.json\"]")
        }

        if let receivers = fields["receivers"] {
            for (name, receiver) in receivers.members() ?? [] {
                if let parsed = parseReceiver(name: name, receiver, allowInline: config.allowInlineSecrets) {
                    config.receivers[name] = parsed
                }
            }
        }

        if let defaults = fields["defaults"] {
            parseDefaults(defaults, into: &config.defaults)
        }
        parseRoutes(fields, into: &config)
        if let intervals = fields["time_intervals"] { config.defaults.timeIntervals = parseTimeIntervals(intervals) }

        if let meta = fields["meta_receivers"], let names = meta.stringOrList() {
            config.metaReceivers = names
            // Names declared count, even when that receiver has problems of its own (reported there).
            var declared: [String] = []
            if case .object(let members)? = fields["receivers"]?.node.value { declared = members.map(\.key) }
            for (index, name) in names.enumerated() where !declared.contains(name) {
                reportUnknownReceiver(name, at: meta.element(index), known: declared)
            }
        }

        if let state = fields["state"], let parts = state.object(known: ["sqlite", "postgres", "give_up_after"]) {
            config.stateGiveUpAfter = duration(parts, "give_up_after", atLeast: .seconds(1)) ?? config.stateGiveUpAfter
            if let sqlite = parts["sqlite"], let path = sqlite.string() {
                config.state = .sqlite(path: path)
            } else if let postgres = parts["postgres"],
                let inner = postgres.object(known: ["url_env", "url_file", "lease_ttl"])
            {
                let ttl = duration(inner, "lease_ttl", atLeast: .seconds(3)) ?? .seconds(30)
                if let url = secret(
                    inner, env: "url_env", file: "url_file", inline: nil, allowInline: false, owner: postgres,
                    required: "the connection URL (postgres://USER:PASSWORD@HOST:5432/DATABASE)")
                {
                    config.state = .postgres(url: url, leaseTTL: ttl)
                }
            } else if parts["sqlite"] == nil, parts["postgres"] == nil {
                state.report(
                    "state needs \"sqlite\": PATH or \"postgres\": {\"url_env\": NAME} (or \"url_file\": PATH)")
            }
        }

        if let heartbeat = fields["heartbeat"], let parts = heartbeat.object(known: ["url_env", "url_file", "every"]) {
            let every = duration(parts, "every", atLeast: .seconds(1)) ?? .seconds(60)
            if let url = secret(
                parts, env: "url_env", file: "url_file", inline: nil, allowInline: false, owner: heartbeat,
                required: "the URL to request (e.g. a Healthchecks.io ping URL)")
            {
                config.heartbeat = Configuration.Heartbeat(url: url, every: every)
            }
        }

        if let history = fields["history"], let parts = history.object(known: ["keep", "group_by"]) {
            config.history.keep = duration(parts, "keep", atLeast: .hours(1)) ?? config.history.keep
            if let groupBy = parts["group_by"], let text = groupBy.string() {
                switch HistoryGrouping.parse(text) {
                case .success(let grouping): config.history.groupBy = grouping
                case .failure(let error): groupBy.report("\(error)")
                }
            }
        }

        if let server = fields["server"],
            let parts = server.object(known: ["listen", "admin_token_env", "admin_token_file", "external_url"])
        {
            if let listen = parts["listen"], let text = listen.string() {
                if isHostPort(text) {
                    config.server.listen = text
                } else {
                    listen.report("listen must be HOST:PORT, e.g. \"127.0.0.1:9464\" (port 0 picks a free one)")
                }
            }
            config.server.adminToken = secret(
                parts, env: "admin_token_env", file: "admin_token_file", inline: nil, allowInline: false, owner: server)
            if let external = parts["external_url"], let text = external.string() {
                if (text.hasPrefix("http://") || text.hasPrefix("https://")) && text.count > 8 {
                    config.server.externalURL = text.hasSuffix("/") ? String(text.dropLast()) : text
                } else {
                    external.report(
                        "external_url must be the status page's address as people reach it, e.g. \"https://devicewatch.example.com\""
                    )
                }
            }
        }

        return (log.isEmpty ? config : nil, RuleParser.sorted(log.diagnostics))
    }

    /// The duration at `fields[name]` when given and at least `minimum` (a shorter one is
    /// reported); nil when absent or refused.
    static func duration(_ fields: [String: NodeReader], _ name: String, atLeast minimum: Duration) -> Duration? {
        guard let reader = fields[name], let duration = reader.duration() else { return nil }
        guard duration >= minimum else {
            reader.report("\(name) must be at least \(DurationText.format(minimum))")
            return nil
        }
        return duration
    }

    /// One secret from `*_env`, `*_file` or (only when allowed) a literal; exactly one may be given.
    static func secret(
        _ fields: [String: NodeReader], env: String, file: String, inline: String?, allowInline: Bool,
        owner: NodeReader,
        required: String? = nil
    ) -> Configuration.SecretReference? {
        let given = [env, file, inline].compactMap { $0 }.filter { fields[$0] != nil }
        if given.count > 1 {
            fields[given[1]]!.report("give only one of \(given.map { "\"\($0)\"" }.joined(separator: ", "))")
            return nil
        }
        if let reader = fields[env], let name = reader.string("the name of an environment variable") {
            return .environment(name)
        }
        if let reader = fields[file], let path = reader.string("a file path") {
            return .file(path)
        }
        if let inline, let reader = fields[inline] {
            guard allowInline else {
                // Never echo the value: it is the secret.
                reader.report(
                    "a literal \(inline) puts a secret in the configuration file; use \"\(env)\" or \"\(file)\", or set \"allow_inline_secrets\": true"
                )
                return nil
            }
            return reader.string().map { .inline($0) }
        }
        if let required, given.isEmpty {
            owner.report("needs \(required) from \"\(env)\" (an environment variable) or \"\(file)\" (a file)")
        }
        return nil
    }

    public static func parseDefaults(_ reader: NodeReader, into defaults: inout Configuration.Defaults) {
        guard
            let fields = reader.object(known: [
                "group_by", "group_wait", "group_interval", "repeat_every", "send_resolved", "stale_after", "notify",
                "escalate",
            ])
        else { return }
        if let groupBy = fields["group_by"], let keys = groupBy.strings() {
            for (index, key) in keys.enumerated() where !GroupKey.isValid(key) {
                groupBy.element(index).report(GroupKey.problem(key))
            }
            defaults.groupBy = keys
        }
        if let value = fields["group_wait"]?.duration() { defaults.groupWait = value }
        if let value = fields["group_interval"]?.duration() { defaults.groupInterval = value }
        if let value = fields["repeat_every"]?.duration() {
            if value > .zero {
                defaults.repeatEvery = value
            } else {
                fields["repeat_every"]?.report("repeat_every must be longer than 0s")
            }
        }
        if let value = fields["send_resolved"]?.bool() { defaults.sendResolved = value }
        if let value = fields["stale_after"]?.duration() { defaults.staleAfter = value }
        if let notify = fields["notify"], let names = notify.stringOrList("a receiver name or a list of them") {
            defaults.notify = names
        }
        if let escalate = fields["escalate"] { defaults.escalate = parseEscalation(escalate, receivers: nil) ?? [] }
    }

    static func reportUnknownReceiver(_ name: String, at reader: NodeReader, known: [String]) {
        let hint =
            NameSuggestion.closest(to: name, among: known).map { "; did you mean \"\($0)\"?" }
            ?? (known.isEmpty
                ? "; no receivers are configured" : "; configured receivers: \(known.sorted().joined(separator: ", "))")
        reader.report("no receiver named \"\(name)\"\(hint)")
    }

    /// `key`'s string when it is an http(s) URL; otherwise nil, having said that it must be one.
    static func httpURL(_ fields: [String: NodeReader], _ key: String) -> String? {
        guard let node = fields[key], let text = node.string() else { return nil }
        guard isHTTPURL(text) else {
            node.report("\(key) must start with http:// or https://")
            return nil
        }
        return text
    }

    static func isHTTPURL(_ text: String) -> Bool {
        (text.hasPrefix("http://") || text.hasPrefix("https://")) && text.count > 8
    }

    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            return false
        }
        return colon > text.startIndex
    }
}
