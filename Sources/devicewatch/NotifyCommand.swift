import ArgumentParser
import CurlHTTP
import DeviceWatch
import DeviceWatchCore
import Foundation

/// `devicewatch notify test RECEIVER`.
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify", abstract: "Try a receiver.", subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Send a sample firing and a sample resolved notification through one receiver and print its answers.",
            discussion:
                "Exit 0 when both were accepted (2xx, or the mail server's 250), 1 otherwise. Nothing is written to the state store."
        )

        @Argument(help: "The receiver's name in the configuration.")
        var receiver: String

        @Option(help: "The configuration file.")
        var config: String = "devicewatch.json"

        func run() async throws {
            let loaded = try loadConfiguration(config)
            let receivers: [String: any Receiver]
            do {
                receivers = try loaded.makeReceivers()
            } catch {
                throw CLIFailure(message: error.description, code: 1)
            }
            guard let target = receivers[receiver] else {
                let hint =
                    NameSuggestion.closest(to: receiver, among: receivers.keys).map { "; did you mean \"\($0)\"?" }
                    ?? ""
                throw CLIFailure(
                    message:
                        "no receiver named \"\(receiver)\"\(hint) (configured: \(receivers.keys.sorted().joined(separator: ", ")))",
                    code: 2)
            }
            let http = CurlHTTPClient()
            let context = RenderContext(rules: loaded.rules)
            var failed = false
            for intent in [
                SampleNotifications.intent(receiver: receiver, firing: 1, resolved: 0),
                SampleNotifications.intent(receiver: receiver, firing: 0, resolved: 1),
            ] {
                let label = intent.firing.isEmpty ? "resolved" : "firing"
                do {
                    switch try target.delivery(for: intent, context: context, at: Date()) {
                    case .local(let write):
                        try write()
                        print("\(label): written")
                    case .http(let request):
                        failed = try await !send(request, label: label, via: http, receiver: target) || failed
                    case .httpSequence(let requests):
                        for request in requests {
                            failed = try await !send(request, label: label, via: http, receiver: target) || failed
                        }
                    case .mail(let message):
                        do {
                            let answer = try await http.sendMail(message)
                            print("\(label): accepted by the mail server (\(answer.code))")
                        } catch {
                            print("\(label): \(describe(target.outcome(of: error)))")
                            failed = true
                        }
                    }
                } catch {
                    print("\(label): could not be sent: \(target.scrub("\(error)"))")
                    failed = true
                }
            }
            if failed { throw CLIFailure(message: "the receiver did not accept every test notification", code: 1) }
        }

        private func describe(_ outcome: DeliveryOutcome) -> String {
            switch outcome {
            case .delivered: "delivered"
            case .retry(let reason, _): "\(reason) (the worker would retry)"
            case .permanentFailure(let reason): "\(reason) (the worker would not retry)"
            }
        }

        private func send(_ request: HTTPRequestSpec, label: String, via http: CurlHTTPClient, receiver: any Receiver)
            async throws -> Bool
        {
            do {
                let response = try await http.send(request)
                let answer = String(decoding: response.body.prefix(300), as: UTF8.self)
                print("\(label): HTTP \(response.status)\(answer.isEmpty ? "" : " " + receiver.scrub(answer))")
                return (200..<300).contains(response.status)
            } catch {
                print("\(label): \(error.kind.rawValue): \(receiver.scrub(error.detail))")
                return false
            }
        }
    }
}

/// `devicewatch notifications list [--dead]`.
struct NotificationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifications", abstract: "Inspect the notification outbox.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recent notifications and their delivery state.")

        @Option(help: "The configuration file.")
        var config: String = "devicewatch.json"

        @Flag(help: "Only dead-lettered notifications (given up on, with the receiver's last answer).")
        var dead = false

        @Flag(help: "Only notifications still waiting to be delivered.")
        var pending = false

        @Option(help: "At most this many.")
        var limit: Int = 50

        func run() async throws {
            let loaded = try loadConfiguration(config)
            let entries: [OutboxEntry]
            do {
                entries = try await loaded.openStore().notifications(
                    state: dead ? .dead : (pending ? .pending : nil), limit: limit)
            } catch {
                throw CLIFailure(message: error.description, code: 1)
            }
            guard !entries.isEmpty else {
                print(dead ? "no dead-lettered notifications" : "no notifications")
                return
            }
            for entry in entries {
                let intent = entry.intent
                var line =
                    "\(Timestamp.format(entry.createdAt))  \(entry.state.rawValue.uppercased())  \(intent.receiver)  \(intent.groupKey)"
                line +=
                    "  \(intent.reason.rawValue): \(intent.firing.count) firing, \(intent.resolved.count) resolved; \(entry.attempts) attempts"
                print(line)
                if let error = entry.lastError { print("    last answer: \(error)") }
            }
        }
    }
}
