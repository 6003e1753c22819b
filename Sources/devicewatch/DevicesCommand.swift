import ArgumentParser
import CurlHTTP
import DeviceWatch
import DeviceWatchCore
import Foundation

/// `devicewatch devices list|get`: the two Devices API calls as a command line.
struct DevicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List devices or show one, straight from the Devices API.",
        subcommands: [List.self, Get.self]
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    struct APIOptions: ParsableArguments {
        @Option(help: "The workspace id (its URL slug).")
        var workspace: String

        @Option(name: .customLong("api-url"), help: "Base URL of the Devices API.")
        var apiURL: String = DevicesAPIClient.defaultBaseURL

        @Option(
            name: .customLong("api-key-file"),
            help: "Read the API key from this file. Without it, the key comes from ROBOFLOW_API_KEY.")
        var apiKeyFile: String?

        @Option(help: "Longest time for one request, e.g. 30s. Failed requests are retried with backoff.")
        var timeout: String = "30s"

        @Option(help: "Retries after a 429, 5xx, timeout or connection failure, with backoff (Retry-After honoured).")
        var retries: Int = 3

        @Option(help: "Output format: table or json (the API's own objects).")
        var format: OutputFormat = .table

        func validate() throws {
            guard DurationText.duration(timeout).map({ $0 > .zero }) == true else {
                throw ValidationError("--timeout must be a duration such as 30s or 2m, not \"\(timeout)\"")
            }
            guard (0...20).contains(retries) else { throw ValidationError("--retries must be from 0 to 20") }
            guard apiURL.hasPrefix("http://") || apiURL.hasPrefix("https://") else {
                throw ValidationError("--api-url must start with http:// or https://")
            }
        }

        func client() throws -> DevicesAPIClient {
            let source: Configuration.SecretReference = apiKeyFile.map { .file($0) } ?? .environment("ROBOFLOW_API_KEY")
            let key: Secret
            do {
                key = try source.resolve()
            } catch {
                throw CLIFailure(
                    message: "no API key: \(error). Set ROBOFLOW_API_KEY or pass --api-key-file with a workspace key.",
                    code: 3)
            }
            let limit = DurationText.duration(timeout) ?? .seconds(30)
            return DevicesAPIClient(
                baseURL: apiURL, apiKey: key, http: CurlHTTPClient(),
                retry: RetryPolicy(maxAttempts: retries + 1, maxTotal: .seconds(60)),
                connectTimeout: min(limit, .seconds(10)), requestTimeout: limit)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the workspace's devices.",
            discussion: """
                Table columns: name, id, status, last heartbeat as an age, rfdm version, type, tags; \
                sorted by name, with a summary line. Filters apply on this side; the API lists everything.
                """)

        @OptionGroup var api: APIOptions

        @Option(help: "Only devices with one of these statuses, comma-separated (online,offline,unknown).")
        var status: String?

        @Option(name: .customLong("tag"), help: "Only devices carrying this tag; repeat for several (all must match).")
        var tags: [String] = []

        func run() async throws {
            let client = try api.client()
            let result: DeviceListResult
            do {
                result = try await client.list(workspace: api.workspace)
            } catch {
                throw CLIFailure(message: error.description, code: cliExitCode(for: error))
            }
            let statuses = status.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
            let kept = result.devices.filter { device in
                (statuses.map { $0.contains(device.status?.rawValue ?? "") } ?? true)
                    && tags.allSatisfy { device.tags.contains($0) }
            }
            switch api.format {
            case .table:
                print(DeviceTable.render(kept, now: result.apiDate ?? Date()))
            case .json:
                try printRawDevices(body: result.body, keeping: Set(kept.map(\.id)))
            }
            reportProblems(warnings: result.warnings.map(\.description), skipped: result.skipped.map(\.description))
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one device.")

        @Argument(help: "The device id.")
        var id: String

        @OptionGroup var api: APIOptions

        func run() async throws {
            let client = try api.client()
            let result: DeviceGetResult
            do {
                result = try await client.get(workspace: api.workspace, deviceID: id)
            } catch {
                throw CLIFailure(message: error.description, code: cliExitCode(for: error))
            }
            switch api.format {
            case .table:
                print(DeviceTable.render([result.device], now: result.apiDate ?? Date()))
            case .json:
                let object = try JSONSerialization.jsonObject(with: result.body)
                print(
                    String(
                        decoding: try JSONSerialization.data(
                            withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
                        as: UTF8.self))
            }
            reportProblems(warnings: result.warnings.map(\.description), skipped: [])
        }
    }
}

/// 3 for authentication/authorization, 4 for not found, 5 for an unavailable API, 1 otherwise.
func cliExitCode(for error: DevicesAPIError) -> Int32 {
    switch error.kind {
    case .unauthorized, .forbiddenList, .forbiddenDevice, .missingScope: 3
    case .notFound: 4
    case .rateLimited, .serverError, .transport, .invalidBody: 5
    case .badRequest, .unexpectedStatus: 1
    }
}

/// Prints the list body's device objects (as the API sent them) whose ids are kept, as a JSON array.
private func printRawDevices(body: Data, keeping ids: Set<String>) throws {
    let root = try JSONSerialization.jsonObject(with: body)
    let items = (root as? [String: Any])?["data"] as? [Any] ?? root as? [Any] ?? []
    let kept = items.filter { item in ((item as? [String: Any])?["id"] as? String).map(ids.contains) ?? false }
    let data = try JSONSerialization.data(
        withJSONObject: kept, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}

private func reportProblems(warnings: [String], skipped: [String]) {
    for line in (skipped + warnings).prefix(20) { printError("warning: \(line)") }
    let more = skipped.count + warnings.count - 20
    if more > 0 { printError("warning: and \(more) more") }
}
