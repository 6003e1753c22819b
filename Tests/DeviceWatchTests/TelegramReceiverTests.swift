import DeviceWatchCore
import Foundation
import Testing

@testable import CurlHTTP
@testable import DeviceWatch

/// Telegram's sendMessage: HTML parse mode with device text escaped, within 4,096 characters.
@Suite("Telegram receiver")
struct TelegramReceiverTests {
    let telegram = TelegramReceiver(
        name: "r", botToken: Secret("123456:BOT-TOKEN-SECRET"), chatID: "-1001234567890", api: "http://127.0.0.1:9")

    @Test(arguments: ["firing", "resolved", "large", "fleet"])
    func payloadsMatchTheirGoldenFiles(group: String) throws {
        let intent = Fixed.group(group)
        try expectGolden("telegram-\(group)", body(telegram, intent))
    }

    @Test func hostileDeviceTextIsEscapedMentionsNoOneAndLinksNowhere() throws {
        let named = Fixed.intent(firing: [Fixed.alert(1, name: "<b>x</b> & @everyone https://evil.example /start")])
        let text = try #require(try json(body(telegram, named)[0])["text"] as? String)
        #expect(
            text.contains("&lt;b&gt;x&lt;/b&gt; &amp; @\u{2060}everyone https:\u{200B}//evil.example /\u{2060}start"))
        #expect(!text.contains("<b>x</b>"))
    }

    @Test func aLargeGroupStaysWithinTheLimitAndSaysHowManyMore() throws {
        let text = try #require(try json(body(telegram, Fixed.largeGroup)[0])["text"] as? String)
        #expect(text.utf16.count <= 4096)
        #expect(text.contains("and 480 more firing") || text.contains("more lines"))
        #expect(
            text.hasSuffix("workspace <b>acme</b> · new · <a href=\"http://devicewatch.example:9464/\">status page</a>")
        )
    }

    /// HTML's special characters become entities (Telegram reads named and numeric ones), so device
    /// text cannot open a tag; mentions, commands and links stay broken.
    @Test func deviceTextIsEscapedIntoInertHTML() {
        #expect(
            TelegramReceiver.html(#"it's <b>"x"</b> & @admin /start https://evil"#)
                == "it&#39;s &lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; @\u{2060}admin /\u{2060}start https:\u{200B}//evil")
    }

    @Test func itPostsToTheBotsSendMessageAndKeepsTheTokenOutOfErrors() throws {
        let request = try httpRequest(telegram, Fixed.firingGroup)
        #expect(request.url == "http://127.0.0.1:9/bot123456:BOT-TOKEN-SECRET/sendMessage")
        let outcome = telegram.interpret(
            HTTPResponseData(
                status: 400, headers: [:],
                body: Data(#"{"ok":false,"description":"bad request for bot123456:BOT-TOKEN-SECRET"}"#.utf8)))
        guard case .permanentFailure(let reason) = outcome else {
            Issue.record("a 400 is permanent: \(outcome)")
            return
        }
        #expect(!reason.contains("BOT-TOKEN-SECRET"))
    }

    @Test func floodControlsRetryAfterIsHonoured() {
        let answer = HTTPResponseData(
            status: 429, headers: [:],
            body: Data(
                #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#
                    .utf8))
        #expect(telegram.interpret(answer) == .retry(reason: "HTTP 429 (Telegram flood control)", after: .seconds(7)))
        #expect(telegram.pause(after: answer) == 7)
    }

    @Test func theLoaderNeedsAChatAndRefusesAnotherShape() {
        let (_, diagnostics) = ConfigurationParser.parse(
            #"{"workspaces": [{"id": "a"}], "receivers": {"t": {"type": "telegram", "bot_token_env": "T", "chat_id": "my group"}, "u": {"type": "telegram", "bot_token_env": "T"}}}"#,
            file: "devicewatch.json")
        let text = diagnostics.map(\.description)
        #expect(text.contains { $0.contains("chat_id must be") }, "\(text)")
        #expect(text.contains { $0.contains("needs \"chat_id\"") }, "\(text)")
    }
}
