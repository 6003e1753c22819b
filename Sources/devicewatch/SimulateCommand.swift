import ArgumentParser
import DeviceAPISimulator
import Foundation
import Logging
import ServiceLifecycle

/// `devicewatch simulate`: serves the Devices API from a scenario file.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Serve a stand-in Devices API from a scenario file, for trying and testing devicewatch.",
        discussion: """
            Serves GET /{workspace}/devices/v2 and /{workspace}/devices/v2/{deviceId} as the real API \
            does (Bearer or api_key auth, scopes, device-scoped keys, 401/403/404, a Date header from the \
            simulator's own clock), plus an admin API under /_sim/ (clock, devices, faults). The first line \
            on stdout is "listening on http://HOST:PORT". Stop it with Ctrl-C or SIGTERM.
            """)

    @Option(help: "The scenario file (JSON): workspaces, API keys, devices and faults.")
    var scenario: String

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The port to listen on; 0 picks a free one.")
    var port: Int = 8080

    @Option(name: .customLong("time-scale"), help: "Simulated seconds per real second; 0 freezes the clock.")
    var timeScale: Double = 1

    @Option(help: "Seed for generated fleets and injected faults.")
    var seed: UInt64 = 1

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard timeScale >= 0, timeScale.isFinite else { throw ValidationError("--time-scale must be 0 or more") }
    }

    func run() async throws {
        let now = Date()
        let loaded: Scenario
        do {
            loaded = try Scenario.load(contentsOf: scenario, now: now, seed: seed)
        } catch {
            throw CLIFailure(message: "scenario refused: \(error)", code: 2)
        }
        let simulator = DevicesAPISimulator(scenario: loaded, now: now, timeScale: timeScale, seed: seed)
        let logger = Logger(label: "devicewatch.simulate", factory: { _ in SwiftLogNoOpLogHandler() })
        let service = SimulatorService(simulator: simulator, host: host, port: port)
        let group = ServiceGroup(
            configuration: .init(
                services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Runs the simulator's server until graceful shutdown.
struct SimulatorService: Service {
    let simulator: DevicesAPISimulator
    let host: String
    let port: Int

    func run() async throws {
        let server: LoopbackServer
        do {
            server = try await SimulatorServer.start(simulator, host: host, port: port)
        } catch {
            throw CLIFailure(message: "could not listen on \(host):\(port): \(error)", code: 1)
        }
        // One write, unbuffered: scripts and tests wait for this line.
        FileHandle.standardOutput.write(Data("listening on \(server.baseURL)\n".utf8))
        try? await gracefulShutdown()
        await server.stop()
    }
}
