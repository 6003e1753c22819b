import CurlHTTP
import DeviceAPISimulator
import Foundation
import Testing

@testable import DeviceWatch
@testable import DeviceWatchCore

extension [String: Any] {
    func header(_ name: String) -> String? { (self["headers"] as? [String: [String]])?[name]?.first }
    func part(_ type: String) -> String? {
        (self["parts"] as? [[String: Any]])?.first { $0["type"] as? String == type }?["text"] as? String
    }
}

@Suite("Email receiver", .serialized)
struct EmailReceiverTests {
    static let password = "s3cret-smtp-password"

    func mail(_ to: [String] = ["oncall@example.com"]) -> Configuration.Mail {
        Configuration.Mail(
            from: "devicewatch <alerts@fleet.example.com>", fromAddress: "alerts@fleet.example.com", to: to)
    }

    func receiver(
        _ server: SMTPTestServer?, scheme: String = "smtp", to: [String] = ["oncall@example.com"],
        password: String? = Self.password, startTLS: Bool = true
    ) throws -> EmailReceiver {
        var settings = mail(to)
        settings.caFile = server?.caFile
        settings.startTLS = startTLS
        return try EmailReceiver(
            name: "mail", server: "\(scheme)://127.0.0.1:\(server?.port ?? 9)", mail: settings,
            username: password.map { _ in Secret("devicewatch") }, password: password.map { Secret($0) })
    }

    func send(_ receiver: EmailReceiver, _ intent: NotificationIntent) async throws -> DeliveryOutcome {
        guard case .mail(let request) = try receiver.delivery(for: intent, context: Fixed.context, at: Fixed.now) else {
            Issue.record("not a mail delivery")
            return .permanentFailure("not mail")
        }
        do {
            _ = try await CurlHTTPClient().sendMail(request)
            return .delivered
        } catch {
            return receiver.outcome(of: error)
        }
    }

    // MARK: The message itself

    @Test(arguments: ["firing", "resolved", "large", "fleet"])
    func messagesMatchTheirGoldenFiles(group: String) throws {
        let message = try receiver(nil).message(for: Fixed.group(group), context: Fixed.context, at: Fixed.now)
        let golden: [String: Any] = [
            "headers": message.headers.map { [$0.name, $0.value] }, "text": message.plainText, "html": message.html,
        ]
        try expectGolden("email-\(group)", [try JSONSerialization.data(withJSONObject: golden)])
    }

    @Test func subjectsAreEncodedWordsWithinLineLimits() {
        #expect(
            MailMessage.encodedWords("[FIRING:2] production-offline in acme") == "[FIRING:2] production-offline in acme"
        )
        // Not ASCII, or looking like an encoded word already, or too long for a line: encoded.
        for text in ["Kamera ausgefallen: Halle Süd", "=?utf-8?B?ZXZpbA==?=", String(repeating: "cam ", count: 40)] {
            let encoded = MailMessage.encodedWords(text)
            let lines = encoded.components(separatedBy: "\r\n")
            #expect(lines.allSatisfy { $0.count + "Subject: ".count <= 78 }, "\(lines)")
            #expect(lines.allSatisfy { $0.trimmingCharacters(in: .whitespaces).hasPrefix("=?utf-8?B?") })
            let decoded = lines.map { line -> String in
                let word = line.trimmingCharacters(in: .whitespaces).dropFirst(10).dropLast(2)
                return String(decoding: Data(base64Encoded: String(word)) ?? Data(), as: UTF8.self)
            }
            #expect(decoded.joined() == text)
        }
    }

    @Test func aRetryIsTheSameMessageAndLaterOnesThreadUnderTheFirst() throws {
        let email = try receiver(nil)
        var firing = Fixed.firingGroup
        firing.id = "a1b2c3-1"
        var resolved = Fixed.resolvedGroup
        resolved.id = "a1b2c3-2"
        let first = try email.message(for: firing, context: Fixed.context, at: Fixed.now)
        let again = try email.message(for: firing, context: Fixed.context, at: Fixed.now)
        #expect(first.data == again.data)
        let reply = try email.message(for: resolved, context: Fixed.context, at: Fixed.now)
        func header(_ message: MailMessage, _ name: String) -> String? {
            message.headers.first { $0.name == name }?.value
        }
        #expect(header(first, "Message-ID") == "<devicewatch.a1b2c3-1@fleet.example.com>")
        #expect(header(first, "In-Reply-To") == nil)
        #expect(header(reply, "In-Reply-To") == header(first, "Message-ID"))
        #expect(header(reply, "References") == header(first, "Message-ID"))
    }

    @Test func hostileDeviceTextAddsNoHeaderNoMarkupAndNoLink() throws {
        let name = "cam\r\nBcc: victim@evil.example <script>alert(1)</script> https://evil.example www.evil.example"
        let intent = Fixed.intent(firing: [Fixed.alert(1, name: name)])
        let message = try receiver(nil).message(for: intent, context: Fixed.context, at: Fixed.now)
        #expect(!message.headers.contains { $0.name == "Bcc" })
        #expect(message.headers.allSatisfy { !$0.value.contains("\n") || $0.value.contains("\r\n ") })
        #expect(!message.html.contains("<script>"))
        #expect(message.html.contains("&lt;script&gt;"))
        for part in [message.plainText, message.html] {
            #expect(!part.contains("https://evil"))
            #expect(!part.contains("victim@evil"))
            #expect(!part.contains("www.evil"))
        }
    }

    @Test func theLoaderChecksServersAddressesAndTLS() {
        let (_, diagnostics) = ConfigurationParser.parse(
            #"""
            {"workspaces": [{"id": "a"}], "receivers": {
              "a": {"type": "email", "url": "smtp://user:pw@mail.example.com", "from": "x@example.com", "to": ["y@example.com"]},
              "b": {"type": "email", "url": "https://mail.example.com", "from": "x@example.com", "to": ["y@example.com"]},
              "c": {"type": "email", "url": "smtp://mail.example.com:587", "from": "not an address", "to": ["y@example.com", "nope"]},
              "d": {"type": "email", "url": "smtp://mail.example.com:25", "from": "x@example.com", "to": ["y@example.com"], "starttls": false},
              "e": {"type": "email", "url": "smtp://mail.example.com:587", "from": "x@example.com", "to": ["y@example.com"], "username": "x"},
              "f": {"type": "email", "url": "smtp://127.0.0.1:2525", "from": "x@example.com", "to": ["y@example.com"], "starttls": false},
              "g": {"type": "email", "url": "smtps://mail.example.com", "from": "x@example.com", "to": []}
            }}
            """#, file: "devicewatch.json")
        let text = diagnostics.map(\.description)
        func reported(_ receiver: String, _ fragment: String) -> Bool {
            text.contains { $0.contains("receivers.\(receiver)") && $0.contains(fragment) }
        }
        #expect(reported("a", "not in the URL"), "\(text)")
        #expect(!text.contains { $0.contains("pw@") })
        #expect(reported("b", "smtp://HOST"), "\(text)")
        #expect(reported("c", "from must be an address"), "\(text)")
        #expect(reported("c", "\"nope\" is not an email address"), "\(text)")
        #expect(reported("d", "only for a server on loopback"), "\(text)")
        #expect(reported("e", "both a username and a password"), "\(text)")
        #expect(!text.contains { $0.contains("receivers.f") }, "\(text)")
        #expect(reported("g", "non-empty list"), "\(text)")
    }

    // MARK: A real SMTP server

    @Test func aFiringAndItsResolveArriveOverSTARTTLSWithAuthInOneThread() async throws {
        let server = try SMTPTestServer()
        let email = try receiver(server, to: ["oncall@example.com", "lead@example.com"])
        var firing = Fixed.hostile
        firing.id = "feedc0de-1"
        var resolved = Fixed.resolvedGroup
        resolved.id = "feedc0de-2"
        #expect(try await send(email, firing) == .delivered)
        #expect(try await send(email, resolved) == .delivered)
        let received = try server.messages()
        try #require(received.count == 2)
        for message in received {
            #expect(message["tls"] as? Bool == true)
            #expect(message["authenticated"] as? Bool == true)
            #expect((message["defects"] as? [String])?.isEmpty == true, "\(message["defects"] ?? "")")
            #expect(message["ascii"] as? Bool == true)
            #expect(message["bare_line_feeds"] as? Int == 0)
            #expect((message["longest_line"] as? Int ?? 999) <= 78)
            #expect(message["mail_from"] as? String == "alerts@fleet.example.com")
            #expect(message["rcpt_tos"] as? [String] == ["oncall@example.com", "lead@example.com"])
            #expect(message["content_type"] as? String == "multipart/alternative")
            #expect(message.header("From") == "devicewatch <alerts@fleet.example.com>")
            #expect(message.header("Auto-Submitted") == "auto-generated")
        }
        let (first, second) = (received[0], received[1])
        #expect(first.header("Subject") == "[FIRING:1] production-offline in acme")
        #expect(
            first.part("text/plain")?.contains("<!channel> <https:\u{200B}//evil|click> @\u{2060}everyone & co") == true
        )
        #expect(first.part("text/html")?.contains("&lt;!channel&gt; &lt;https:\u{200B}//evil|click&gt;") == true)
        #expect(second.header("Subject") == "[RESOLVED] production-offline in acme")
        #expect(second.header("In-Reply-To") == first.header("Message-ID"))
        #expect(second.header("References") == "<devicewatch.feedc0de-1@fleet.example.com>")
    }

    @Test func implicitTLSWorksAndANonASCIISubjectDecodes() async throws {
        let server = try SMTPTestServer(tls: "implicit")
        let email = try receiver(server, scheme: "smtps")
        let intent = Fixed.intent(firing: [Fixed.alert(1, name: "Kamera Halle Süd 🚨")])
        var settings = email.mail
        settings.subject = "{{firing_count}} down: {{#firing}}{{device.name}}{{/firing}}"
        let templated = try EmailReceiver(
            name: "mail", server: email.server, mail: settings, username: email.username, password: email.password)
        let outcome = try await send(templated, intent)
        #expect(outcome == .delivered, "\(outcome)")
        let message = try #require(try server.messages().first)
        #expect(message["tls"] as? Bool == true)
        #expect(message.header("Subject") == "1 down: Kamera Halle Süd 🚨")
        #expect((message["defects"] as? [String])?.isEmpty == true)
    }

    @Test func a4xxIsRetriedAsTheSameMessageAndA5xxIsADeadLetter() async throws {
        let server = try SMTPTestServer()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dw-mail-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStateStore(path: path)
        // Ahead of the enqueue's wall-clock time, so both are due.
        let clock = ManualClock(Date().addingTimeInterval(5))
        var busy = Fixed.firingGroup
        busy.id = "tempfail-group-1"
        busy.receiver = "greylisted"
        var refused = Fixed.firingGroup
        refused.id = "reject-group-1"
        refused.receiver = "refused"
        try await enqueueInOutbox([busy, refused], store)
        let dispatcher = Dispatcher(
            store: store, http: CurlHTTPClient(),
            receivers: [
                "greylisted": try receiver(server, to: ["tempfail@example.com"]),
                "refused": try receiver(server, to: ["reject@example.com"]),
            ], context: Fixed.context, clock: clock.workerClock)
        #expect(await dispatcher.deliverDue(now: clock.now) == 0)
        let all = try await store.notifications(state: nil, limit: 10)
        let dead = try #require(
            all.first { $0.state == .dead }, "\(all.map { ($0.intent.id, $0.state, $0.lastError ?? "") })")
        #expect(dead.intent.id == "reject-group-1")
        #expect(dead.lastError?.contains("550") == true, "\(dead.lastError ?? "")")
        let pending = try await #require(try store.dueNotifications(at: .distantFuture, limit: 10).first)
        #expect(pending.intent.id == "tempfail-group-1")
        #expect(pending.lastError?.contains("451") == true, "\(pending.lastError ?? "")")
        #expect(await dispatcher.deliverDue(now: pending.nextAttemptAt) == 1)
        let answers = try server.messages()
        #expect(answers.map { $0["answer"] as? Int } == [451, 250])
        #expect(answers[0].header("Message-ID") == answers[1].header("Message-ID"))
    }

    @Test func refusedCredentialsAndAMissingSTARTTLSAreDeadLettersThatNameTheCause() async throws {
        let server = try SMTPTestServer()
        let wrong = try await send(try receiver(server, password: "not-the-password"), Fixed.firingGroup)
        guard case .permanentFailure(let reason) = wrong else {
            Issue.record("refused credentials are for good: \(wrong)")
            return
        }
        #expect(reason.contains("login denied"), "\(reason)")
        #expect(!reason.contains("not-the-password"))
        let plain = try SMTPTestServer(tls: "none", user: nil, password: nil)
        let outcome = try await send(try receiver(plain, password: nil), Fixed.firingGroup)
        guard case .permanentFailure(let why) = outcome else {
            Issue.record("no STARTTLS is for good: \(outcome)")
            return
        }
        #expect(why.contains("STARTTLS"), "\(why)")
        #expect(try plain.messages().isEmpty)
        // Told that TLS is not needed (a loopback relay), it sends in the clear.
        #expect(try await send(try receiver(plain, password: nil, startTLS: false), Fixed.firingGroup) == .delivered)
        #expect(try plain.messages().first?["tls"] as? Bool == false)
    }

    @Test func aServerThatIsNotThereIsRetried() async throws {
        let outcome = try await send(try receiver(nil), Fixed.firingGroup)
        guard case .retry = outcome else {
            Issue.record("a refused connection is retried: \(outcome)")
            return
        }
    }
}
