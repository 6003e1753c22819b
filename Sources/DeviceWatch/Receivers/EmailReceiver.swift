import CurlHTTP
import DeviceWatchCore
import Foundation
import Mustache

/// Email over SMTP (libcurl, the same stack as every HTTP receiver): one message per
/// notification with a plain-text and an HTML part, to every address in `to`.
///
/// STARTTLS is required on `smtp://` unless turned off for a loopback server; `smtps://` is TLS
/// from the start. The `Message-ID` comes from the notification's id, so a retry is the same
/// message, and every later notification of a group names the group's first in `In-Reply-To` and
/// `References`, so a resolve lands in its firing's thread. Device text is inert in both parts
/// (HTML-escaped in one; links, addresses and `www.` broken in both so no client links them),
/// headers can carry no line break, and a 4xx answer is retried while a 5xx is a dead letter.
public struct EmailReceiver: Receiver {
    /// The rate limit when the configuration gives none.
    public static let defaultRateLimit = Configuration.RateLimit(perSecond: 1, burst: 5)
    /// Alerts listed per message; the rest are counted.
    public static let maxAlerts = 200
    /// Most bytes a message may have, under the 102 KB past which Gmail clips a message.
    public static let messageBytes = 100_000
    /// Longest subject, in characters, and longest line of an alert.
    public static let subjectLimit = TextLimit(200)
    public static let lineLimit = TextLimit(500)

    public let name: String
    public let server: String
    public let mail: Configuration.Mail
    public let username: Secret?
    public let password: Secret?
    public let rateLimit: Configuration.RateLimit
    public let template: TemplateOverride?
    let subject: MustacheTemplate?

    public var secrets: [Secret] { password.map { [$0] } ?? [] }

    public init(
        name: String, server: String, mail: Configuration.Mail, username: Secret? = nil, password: Secret? = nil,
        rateLimit: Configuration.RateLimit? = nil, template: TemplateOverride? = nil
    ) throws {
        self.name = name
        self.server = server
        self.mail = mail
        self.username = username
        self.password = password
        self.rateLimit = rateLimit ?? Self.defaultRateLimit
        self.template = template
        if let text = mail.subject {
            do {
                subject = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
            } catch {
                throw ReceiverSetupError(
                    receiver: name, problem: "its subject is not a valid Mustache template: \(error)")
            }
        } else {
            subject = nil
        }
    }

    public func delivery(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> Delivery {
        .mail(
            MailRequestSpec(
                url: server, from: mail.fromAddress, recipients: mail.to, username: username?.exposedValue,
                password: password?.exposedValue, requireTLS: mail.startTLS, caFile: mail.caFile,
                message: try message(for: intent, context: context, at: now).data))
    }

    /// Text from a device or the API, inert for people and mail clients: no control characters,
    /// and no `scheme://`, `@` or `www.` left for a client to turn into a link.
    static func inert(_ text: String) -> String {
        var text = Markup.unlinked(InertText.line(text))
        if text.contains("@") { text = text.replacingOccurrences(of: "@", with: "@\u{2060}") }
        if text.localizedCaseInsensitiveContains("www.") {
            text = text.replacingOccurrences(of: "www.", with: "www\u{200B}.", options: .caseInsensitive)
        }
        return text
    }

    /// The domain of the sender's address, for `Message-ID`s (RFC 5322 `dot-atom`).
    var messageDomain: String {
        let domain = mail.fromAddress.split(separator: "@").last.map(String.init) ?? ""
        let clean = domain.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
        return clean.isEmpty ? "devicewatch.invalid" : clean
    }

    /// `<devicewatch.ID@domain>`: the same for every attempt of one notification.
    func messageID(_ notificationID: String) -> String {
        let local = notificationID.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "_" }
        return "<devicewatch.\(String(local))@\(messageDomain)>"
    }

    /// The group's first notification: ids are `GROUP-SEQUENCE`, and the thread starts at 1.
    static func threadRoot(of notificationID: String) -> String? {
        guard let dash = notificationID.lastIndex(of: "-"),
            let sequence = Int(notificationID[notificationID.index(after: dash)...]), sequence > 1
        else { return nil }
        return String(notificationID[..<dash]) + "-1"
    }

    /// The message, listing fewer alerts (the rest counted) until it fits ``messageBytes``.
    func message(for intent: NotificationIntent, context: RenderContext, at now: Date) throws -> MailMessage {
        var shown = Self.maxAlerts
        while true {
            let message = try message(for: intent, context: context, at: now, listing: shown)
            if shown <= 1 || message.data.count <= Self.messageBytes { return message }
            shown = min(shown, intent.firing.count + intent.resolved.count) / 2
        }
    }

    func message(for intent: NotificationIntent, context: RenderContext, at now: Date, listing: Int) throws
        -> MailMessage
    {
        let view = NotificationView(intent, context: context, limit: listing)
        var subjectText = view.headline(escaping: Self.inert)
        if let subject {
            let rendered = InertText.line(subject.render(view.templateValues(escaping: Self.inert)))
                .trimmingCharacters(in: .whitespaces)
            if !rendered.isEmpty { subjectText = rendered }
        }
        subjectText = subjectText.capped(Self.subjectLimit)
        var headers: [(String, String)] = [
            ("Date", MailMessage.date(now)), ("From", MailMessage.mailbox(mail.from)),
            ("To", mail.to.joined(separator: ",\r\n ")),
            ("Subject", MailMessage.encodedWords(subjectText)), ("Message-ID", messageID(intent.id)),
        ]
        if let root = Self.threadRoot(of: intent.id) {
            headers.append(("In-Reply-To", messageID(root)))
            headers.append(("References", messageID(root)))
        }
        // RFC 3834: sent by a program, so vacation responders stay quiet.
        headers.append(("Auto-Submitted", "auto-generated"))
        headers.append(("X-Auto-Response-Suppress", "All"))
        headers.append(("X-Devicewatch-Status", view.isFiring ? "firing" : "resolved"))
        let plain: String
        let html: String
        if let template {
            plain = try template.render(view, escaping: Self.inert)
            html = Self.page(
                title: subjectText,
                body: "<pre style=\"font-family:inherit;white-space:pre-wrap\">\(Markup.html(plain))</pre>")
        } else {
            plain = plainText(view, intent: intent)
            html = htmlText(view, intent: intent)
        }
        let boundary = "devicewatch-" + intent.id.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(40)
        return MailMessage(headers: headers, plainText: plain, html: html, boundary: String(boundary) + "-part")
    }

    /// `name (id): summary` and its details, for one alert.
    private func details(_ alert: AlertSnapshot) -> (line: String, facts: String, reasons: String?) {
        // The rule's description (a runbook line, say) goes with the reasons.
        let line = Self.inert(alert.summary).capped(Self.lineLimit)
        var facts =
            "\(alert.severity.rawValue) · device \(Self.inert(alert.deviceName)) (\(Self.inert(alert.deviceID)))"
        facts += " · since \(Timestamp.format(alert.startsAt))"
        if !alert.isFiring { facts += " · \(alert.resolveReasonText)" }
        let notes = alert.reasons + (alert.description.map { [$0] } ?? [])
        let reasons = notes.isEmpty ? nil : Self.inert(notes.joined(separator: "; ")).capped(Self.lineLimit)
        return (line, facts.capped(Self.lineLimit), reasons)
    }

    private func sections(_ view: NotificationView) -> [(title: String, alerts: [AlertSnapshot], more: Int)] {
        var sections: [(String, [AlertSnapshot], Int)] = []
        if view.firingCount > 0 {
            sections.append(("Firing (\(view.firingCount))", view.firing, view.firingCount - view.firing.count))
        }
        if view.resolvedCount > 0 {
            sections.append(
                ("Resolved (\(view.resolvedCount))", view.resolved, view.resolvedCount - view.resolved.count))
        }
        return sections
    }

    func plainText(_ view: NotificationView, intent: NotificationIntent) -> String {
        var lines = [view.headline(escaping: Self.inert), ""]
        for section in sections(view) {
            lines.append(section.title + ":")
            for alert in section.alerts {
                let (line, facts, reasons) = details(alert)
                lines.append("- " + line)
                lines.append("  " + facts)
                if let reasons { lines.append("  " + reasons) }
            }
            if section.more > 0 { lines.append("and \(section.more) more") }
            lines.append("")
        }
        if let external = view.externalURL { lines.append("Status page: \(external)/") }
        lines.append("-- ")
        lines.append(
            "devicewatch · workspace \(Self.inert(view.workspace)) · \(intent.reason.rawValue) · receiver \(name)")
        return lines.joined(separator: "\n")
    }

    func htmlText(_ view: NotificationView, intent: NotificationIntent) -> String {
        let colour = view.isFiring ? (view.severity >= .error ? "#b00020" : "#8a5a00") : "#1e6b30"
        var body =
            "<h2 style=\"color:\(colour);margin:0 0 12px\">\(Markup.html(view.headline(escaping: Self.inert)))</h2>\n"
        for section in sections(view) {
            body +=
                "<h3 style=\"margin:12px 0 4px\">\(Markup.html(section.title))</h3>\n<ul style=\"padding-left:20px\">\n"
            for alert in section.alerts {
                let (line, facts, reasons) = details(alert)
                body += "<li style=\"margin-bottom:6px\"><b>\(Markup.html(line))</b><br>"
                body += "<span style=\"color:#555;font-size:13px\">\(Markup.html(facts))"
                if let reasons { body += "<br>\(Markup.html(reasons))" }
                body += "</span></li>\n"
            }
            body += "</ul>\n"
            if section.more > 0 { body += "<p>and \(section.more) more</p>\n" }
        }
        if let external = view.externalURL {
            body += "<p><a href=\"\(Markup.html(external))/\">Open the status page</a></p>\n"
        }
        body +=
            "<p style=\"color:#666;font-size:12px\">devicewatch · workspace \(Markup.html(Self.inert(view.workspace))) · \(intent.reason.rawValue) · receiver \(Markup.html(name))</p>\n"
        return Self.page(title: view.headline(escaping: Self.inert), body: body)
    }

    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <title>\(Markup.html(title))</title></head>
        <body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#1b1b1b">
        \(body)</body></html>
        """
    }

    /// How a mail transfer's failure is taken: a 4xx refusal, a lost connection or a timeout is
    /// retried; a 5xx refusal, refused credentials or a server without STARTTLS is a dead letter.
    public func outcome(of error: CurlHTTPError) -> DeliveryOutcome {
        var reason = "\(error.kind.rawValue)"
        if let code = error.serverCode { reason += " (\(code))" }
        if !error.detail.isEmpty { reason += ": \(error.detail)" }
        if error.kind == .loginDenied { reason += "; check the receiver's username and password" }
        if error.curlCode == 64 {
            reason += "; the server did not offer STARTTLS: use smtps:// or a server that does"
        }
        reason = scrub(reason)
        return error.isRetryable ? .retry(reason: reason, after: nil) : .permanentFailure(reason)
    }
}
