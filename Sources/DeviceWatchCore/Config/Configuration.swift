/// `devicewatch.json`: the API, the workspaces, rule files, receivers, defaults, state and server.
public struct Configuration: Sendable, Equatable {
    /// Where a secret is read from. Literal values are only allowed with `allow_inline_secrets`.
    public enum SecretReference: Sendable, Equatable, CustomStringConvertible {
        case environment(String)
        case file(String)
        case inline(String)

        /// Never the secret itself.
        public var description: String {
            switch self {
            case .environment(let name): "environment variable \(name)"
            case .file(let path): "file \(path)"
            case .inline: "an inline value"
            }
        }
    }

    public struct API: Sendable, Equatable {
        public var baseURL: String = "https://api.roboflow.com"
        public var apiKey: SecretReference = .environment("ROBOFLOW_API_KEY")
        /// How long one request may take.
        public var timeout: Duration = .seconds(30)
    }

    public struct Workspace: Sendable, Equatable {
        public var id: String
        /// The time between polls.
        public var pollEvery: Duration = .seconds(60)
        /// This workspace's own API key (Roboflow keys belong to one workspace); nil: `api`'s.
        public var apiKey: SecretReference?
    }

    /// The time between polls, per workspace.
    public static func pollEvery(_ workspaces: [Workspace]) -> [String: Duration] {
        Dictionary(workspaces.map { ($0.id, $0.pollEvery) }, uniquingKeysWith: { first, _ in first })
    }

    /// Where a workspace's API key comes from: its own, else `api`'s.
    public func apiKey(for workspace: Workspace) -> SecretReference {
        workspace.apiKey ?? api.apiKey
    }

    /// How a PagerDuty receiver maps notifications to events.
    public enum PagerDutyMode: String, Sendable, CaseIterable {
        /// One event per alert, deduplicated by the alert's fingerprint.
        case perAlert = "per_alert"
        /// One event per notification group, deduplicated by the group: a 500-camera outage is
        /// one incident and one event.
        case perGroup = "per_group"
    }

    public enum ReceiverType: String, Sendable, CaseIterable {
        case slack, pagerduty, discord, teams, webhook, console, file, ntfy, telegram, email, opsgenie, googlechat,
            mattermost
    }

    /// An `email` receiver's SMTP settings (the server's URL is the receiver's `endpoint`).
    public struct Mail: Sendable, Equatable {
        /// The `From:` header as written (`alerts@example.com` or `devicewatch <alerts@example.com>`).
        public var from: String
        /// The envelope sender: the address in `from`.
        public var fromAddress: String
        public var to: [String]
        public var username: SecretReference?
        public var password: SecretReference?
        /// Whether STARTTLS is required on `smtp://` (always, unless turned off for a loopback server).
        public var startTLS = true
        /// PEM certificate authorities to trust for the server (a private CA).
        public var caFile: String?
        /// A Mustache template for the subject line (default: the headline).
        public var subject: String?
    }

    public struct RateLimit: Sendable, Equatable {
        public var perSecond: Double
        public var burst: Int

        public init(perSecond: Double, burst: Int) {
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    public struct Receiver: Sendable, Equatable {
        public var name: String
        public var type: ReceiverType
        /// The webhook URL (slack, discord, teams, webhook).
        public var url: SecretReference?
        /// PagerDuty's routing key.
        public var routingKey: SecretReference?
        /// PagerDuty Events API, Telegram Bot API or Opsgenie API endpoint override; an email
        /// receiver's `smtp://` or `smtps://` server (not a secret).
        public var endpoint: String?
        /// PagerDuty: one event per alert (`per_alert`, the default) or per notification group.
        public var pagerDutyMode: PagerDutyMode = .perAlert
        /// The signing secret of a `webhook` receiver.
        public var signingSecret: SecretReference?
        /// An `ntfy` receiver's access token, if the topic needs one; a `telegram` receiver's bot
        /// token; an `opsgenie` receiver's API key.
        public var token: SecretReference?
        /// A `telegram` receiver's chat (a numeric id such as `-1001234567890`, or `@channel`).
        public var chatID: String?
        /// An `email` receiver's SMTP settings.
        public var mail: Mail?
        /// An `opsgenie` receiver's region: `us` (api.opsgenie.com, the default) or `eu`.
        public var region: String?
        public var headers: [String: String] = [:]
        /// The `file` receiver's output path.
        public var path: String?
        /// A Mustache template file overriding the receiver's default text.
        public var template: String?
        public var rateLimit: RateLimit?
    }

    /// The ops server: health, metrics, the alerts and silences API, the status page.
    public struct Server: Sendable, Equatable {
        /// `host:port`; port 0 picks a free one. Loopback unless configured otherwise.
        public var listen = "127.0.0.1:9464"
        /// The bearer token that silence writes need (`admin_token_env` / `admin_token_file`).
        public var adminToken: SecretReference?
        /// Where people reach the status page; notifications link to it when set.
        public var externalURL: String?

        public init() {}

        /// Whether `listen` binds to loopback only.
        public var isLoopback: Bool {
            let host = listen[..<(listen.lastIndex(of: ":") ?? listen.endIndex)]
            return host == "localhost" || host.hasPrefix("127.") || host == "[::1]" || host == "::1"
        }
    }

    public struct Defaults: Sendable, Equatable {
        public var groupBy: [String] = ["rule", "workspace"]
        public var groupWait: Duration = .seconds(30)
        public var groupInterval: Duration = .minutes(5)
        public var repeatEvery: Duration = .hours(4)
        public var sendResolved = true
        public var staleAfter: Duration = .minutes(5)
        /// Where alerts of rules without their own `notify` go when no route matches.
        public var notify: [String] = []
        /// Escalation for rules without their own `escalate`.
        public var escalate: [EscalationStep] = []
        /// The configuration's `time_intervals`, kept here so every place that reads the defaults
        /// mutes alike (rules name them in `mute_during`).
        public var timeIntervals = TimeIntervals()
        /// The configuration's `routes`, kept here so every place that reads the defaults routes alike.
        public var routes: [Route] = []

        public init() {}
    }

    /// One entry of `routes`: alerts (of rules without their own `notify`) matching every
    /// matcher go to `notify`; the first matching route wins unless it says `continue`.
    public struct Route: Sendable, Equatable {
        public var match: [Silence.Matcher] = []
        public var notify: [String] = []
        public var continues = false
    }

    /// The routes (see ``Route``), kept with the defaults.
    public var routes: [Route] {
        get { defaults.routes }
        set { defaults.routes = newValue }
    }

    public enum StateStore: Sendable, Equatable {
        case sqlite(path: String)
        /// The connection URL (`postgres://user:password@host:5432/db?sslmode=...`) is a secret:
        /// it comes from an environment variable or a file, never the configuration itself.
        /// `leaseTTL`: how long a worker's hold on the database lasts unrenewed (it renews every
        /// third of it); another worker may take the database over only after that.
        case postgres(url: SecretReference, leaseTTL: Duration = .seconds(30))
    }

    /// A dead-man's switch: a URL requested after good cycles, at most once per `every`,
    /// so a service that expects it (Healthchecks.io, Cronitor, a PagerDuty dead-man switch)
    /// tells the team when devicewatch itself stops.
    public struct Heartbeat: Sendable, Equatable {
        /// The URL is a secret (whoever has it can keep the switch quiet).
        public var url: SecretReference
        public var every: Duration = .seconds(60)
    }

    /// The device status log: a row per change of a device's status, kept for `keep`
    /// (each device's status at the start of that window is kept too), pruned hourly.
    public struct History: Sendable, Equatable {
        public var keep: Duration = .days(35)
        /// How the status page groups devices for its uptime bars (`tag:site-*`).
        public var groupBy: HistoryGrouping = .tag(Glob("site-*"))

        public init() {}
    }

    public var heartbeat: Heartbeat?
    public var history = History()
    public var api = API()
    public var workspaces: [Workspace] = []
    /// Paths and globs, relative to the configuration file.
    public var ruleFiles: [String] = []
    public var receivers: [String: Receiver] = [:]
    public var defaults = Defaults()
    public var metaReceivers: [String] = []
    public var state: StateStore = .sqlite(path: "devicewatch-state.db")
    /// How long the state store may keep failing before the worker exits for its supervisor to restart it.
    public var stateGiveUpAfter: Duration = .seconds(120)
    public var server = Server()
    public var allowInlineSecrets = false

    public init() {}
}
