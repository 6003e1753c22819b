import DeviceAPISimulator
import DeviceWatch
import DeviceWatchCore
import Foundation
import Testing

@Suite("devicewatch notify test and notifications list", .serialized)
struct NotifyCommandTests {
    func config(_ dir: Workdir) -> [String] { ["--config", dir.file("devicewatch.json")] }

    @Test func notifyTestSendsAFiringAndAResolvedSample() async throws {
        let sink = try await RecordingSink.start()
        defer { Task { await sink.stop() } }
        let dir = try Workdir([
            "devicewatch.json": """
            {"workspaces": [{"id": "acme"}], "rule_files": [], "receivers": {"hook": {"type": "webhook", "url_env": "HOOK_URL"}}}
            """
        ])
        let output = try await CommandRunner.run(
            ["notify", "test", "hook"] + config(dir), environment: ["HOOK_URL": sink.url])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("firing: HTTP 200"))
        #expect(output.stdout.contains("resolved: HTTP 200"))
        #expect(sink.requests.map { $0.json?["status"] as? String } == ["firing", "resolved"])
        #expect(!output.stdout.contains(sink.url))
    }

    @Test func notifyTestPublishesToNtfyWithItsTopicAndToken() async throws {
        // ntfy answers with the message it published.
        let sink = try await RecordingSink.start(
            body:
                #"{"id":"sPs71M8A2T","time":1764590400,"expires":1764633600,"event":"message","topic":"fleet-alerts"}"#)
        defer { Task { await sink.stop() } }
        let dir = try Workdir([
            "devicewatch.json": """
            {"workspaces": [{"id": "acme"}], "rule_files": [],
             "receivers": {"phone": {"type": "ntfy", "url_env": "NTFY_URL", "token_env": "NTFY_TOKEN"}}}
            """
        ])
        let topic = sink.server.baseURL + "/fleet-alerts"
        let output = try await CommandRunner.run(
            ["notify", "test", "phone"] + config(dir), environment: ["NTFY_URL": topic, "NTFY_TOKEN": "tk_TOKEN"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(sink.requests.map { $0.json?["topic"] as? String } == ["fleet-alerts", "fleet-alerts"])
        #expect(sink.requests.allSatisfy { $0.headers["authorization"] == "Bearer tk_TOKEN" })
        #expect(!output.stdout.contains("tk_TOKEN") && !output.stdout.contains(topic))
    }

    @Test func notifyTestCreatesAndClosesAnOpsgenieAlertByAlias() async throws {
        // Opsgenie's own answer: 202 and a request id (the alert is created asynchronously).
        let sink = try await RecordingSink.start(
            statuses: [202, 202],
            body:
                #"{"result":"Request will be processed","took":0.302,"requestId":"43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}"#
        )
        defer { Task { await sink.stop() } }
        let base = sink.server.baseURL
        let dir = try Workdir([
            "devicewatch.json": """
            {"workspaces": [{"id": "acme"}], "rule_files": [],
             "receivers": {"genie": {"type": "opsgenie", "api_key_env": "GENIE_KEY", "url": "\(base)"}}}
            """
        ])
        let output = try await CommandRunner.run(
            ["notify", "test", "genie"] + config(dir), environment: ["GENIE_KEY": "genie-api-key-secret"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        try #require(sink.requests.count == 2)
        let (create, close) = (sink.requests[0], sink.requests[1])
        #expect(create.path == "/v2/alerts")
        let alias = try #require(create.json?["alias"] as? String)
        #expect(close.path == "/v2/alerts/\(alias)/close" && close.query == "identifierType=alias")
        #expect(sink.requests.allSatisfy { $0.headers["authorization"] == "GenieKey genie-api-key-secret" })
        #expect(create.json?["priority"] as? String == "P3")
        #expect(!output.stdout.contains("genie-api-key-secret") && !output.stderr.contains("genie-api-key-secret"))
    }

    @Test func notifyTestPostsGoogleChatCardsInTheGroupsThreadAndMattermostText() async throws {
        // Google Chat answers with the message it created (Mattermost answers "ok").
        let sink = try await RecordingSink.start(
            body: #"{"name":"spaces/AAA/messages/BBB.BBB","thread":{"name":"spaces/AAA/threads/CCC","threadKey":"x"}}"#)
        defer { Task { await sink.stop() } }
        let dir = try Workdir([
            "devicewatch.json": """
            {"workspaces": [{"id": "acme"}], "rule_files": [],
             "receivers": {"chat": {"type": "googlechat", "url_env": "CHAT_URL"},
                           "mm": {"type": "mattermost", "url_env": "MM_URL"}}}
            """
        ])
        let environment = [
            "CHAT_URL": sink.url + "?key=KEY&token=CHAT-TOKEN-SECRET", "MM_URL": sink.url + "/MM-SECRET",
        ]
        let output = try await CommandRunner.run(["notify", "test", "chat"] + config(dir), environment: environment)
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        try #require(sink.requests.count == 2)
        #expect(
            sink.requests.allSatisfy {
                $0.query == "key=KEY&token=CHAT-TOKEN-SECRET&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
            })
        let threads = sink.requests.map { ($0.json?["thread"] as? [String: String])?["threadKey"] }
        #expect(threads[0] != nil && threads[0] == threads[1])
        #expect(sink.requests.allSatisfy { ($0.json?["cardsV2"] as? [Any])?.count == 1 })
        #expect(!output.stdout.contains("CHAT-TOKEN-SECRET"))
        let posted = try await CommandRunner.run(["notify", "test", "mm"] + config(dir), environment: environment)
        #expect(posted.status == 0, "\(posted.stdout)\(posted.stderr)")
        let post = try #require(sink.requests.last?.json)
        #expect((post["text"] as? String)?.hasPrefix("**[RESOLVED]") == true)
        #expect((post["attachments"] as? [[String: Any]])?.first?["color"] as? String == "#2e7d32")
    }

    @Test func notifyTestSendsTwoEmailsOverSTARTTLSAndNamesARefusal() async throws {
        let server = try SMTPTestServer()
        let dir = try Workdir([
            "devicewatch.json": """
            {"workspaces": [{"id": "acme"}], "rule_files": [],
             "receivers": {"mail": {"type": "email", "url": "smtp://127.0.0.1:\(server.port)", "ca_file": "\(server.caFile)",
               "from": "devicewatch <alerts@example.com>", "to": ["oncall@example.com"],
               "username": "devicewatch", "password_env": "SMTP_PASSWORD"}}}
            """
        ])
        let output = try await CommandRunner.run(
            ["notify", "test", "mail"] + config(dir), environment: ["SMTP_PASSWORD": "s3cret-smtp-password"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        output.expectStdout(contains: "firing: accepted by the mail server (250)")
        let received = try server.messages()
        #expect(received.count == 2)
        #expect(received.allSatisfy { $0["tls"] as? Bool == true && $0["authenticated"] as? Bool == true })
        let refused = try await CommandRunner.run(
            ["notify", "test", "mail"] + config(dir), environment: ["SMTP_PASSWORD": "wrong-password-here"])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("login denied"), "\(refused.stdout)")
        for text in [output.stdout, output.stderr, refused.stdout, refused.stderr] {
            #expect(!text.contains("s3cret-smtp-password") && !text.contains("wrong-password-here"))
        }
    }

    @Test func notifyTestSendsTelegramMessagesToTheBotAndHonoursFloodControl() async throws {
        // The Bot API's answer: ok, and the message sent.
        let sink = try await RecordingSink.start(
            body: #"{"ok":true,"result":{"message_id":17,"chat":{"id":-10042,"type":"supergroup"},"date":1764590400}}"#)
        defer { Task { await sink.stop() } }
        let base = sink.server.baseURL
        let dir = try Workdir([
            "devicewatch.json": """
            {"workspaces": [{"id": "acme"}], "rule_files": [],
             "receivers": {"team": {"type": "telegram", "bot_token_env": "BOT_TOKEN", "chat_id": "-10042", "url": "\(base)"}}}
            """
        ])
        let output = try await CommandRunner.run(
            ["notify", "test", "team"] + config(dir), environment: ["BOT_TOKEN": "999:TOKEN-SECRET"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(sink.requests.map(\.path) == ["/bot999:TOKEN-SECRET/sendMessage", "/bot999:TOKEN-SECRET/sendMessage"])
        #expect(sink.requests.map { $0.json?["chat_id"] as? String } == ["-10042", "-10042"])
        #expect(sink.requests.allSatisfy { $0.json?["parse_mode"] as? String == "HTML" })
        #expect(!output.stdout.contains("TOKEN-SECRET") && !output.stderr.contains("TOKEN-SECRET"))
    }

    @Test func notifyTestFailsWhenTheReceiverRefuses() async throws {
        let sink = try await RecordingSink.start(statuses: [400, 400])
        defer { Task { await sink.stop() } }
        let dir = try Workdir([
            "devicewatch.json":
                #"{"workspaces": [{"id": "acme"}], "rule_files": [], "receivers": {"hook": {"type": "webhook", "url_env": "HOOK_URL"}}}"#
        ])
        let output = try await CommandRunner.run(
            ["notify", "test", "hook"] + config(dir), environment: ["HOOK_URL": sink.url])
        #expect(output.status == 1)
        #expect(output.stdout.contains("firing: HTTP 400"))
        let unknown = try await CommandRunner.run(
            ["notify", "test", "hoook"] + config(dir), environment: ["HOOK_URL": sink.url])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("did you mean \"hook\"?"))
        let missingSecret = try await CommandRunner.run(["notify", "test", "hook"] + config(dir))
        #expect(missingSecret.status == 1)
        #expect(missingSecret.stderr.contains("environment variable HOOK_URL is not set"))
    }

    @Test func notificationsListShowsDeadLettersWithTheReceiversAnswer() async throws {
        let dir = try Workdir([
            "devicewatch.json": #"{"workspaces": [{"id": "acme"}], "rule_files": [], "state": {"sqlite": "state.db"}}"#
        ])
        #expect(
            try await CommandRunner.run(["notifications", "list", "--dead"] + config(dir)).stdout
                == "no dead-lettered notifications\n")
        let store = try SQLiteStateStore(path: dir.file("state.db"))
        var changes = StateChanges()
        changes.intents = [SampleNotifications.intent(receiver: "hook", firing: 2, resolved: 0)]
        try await store.commit(changes, at: Date())
        try await store.record(
            [DeliveryRecord(id: changes.intents[0].id, kind: .dead(error: "HTTP 400: invalid payload"))], at: Date())
        let output = try await CommandRunner.run(["notifications", "list", "--dead"] + config(dir))
        #expect(output.stdout.contains("DEAD  hook"))
        #expect(output.stdout.contains("2 firing, 0 resolved; 1 attempts"))
        #expect(output.stdout.contains("last answer: HTTP 400: invalid payload"))
    }
}
