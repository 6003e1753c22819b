import Dispatch
import Foundation

/// SIGHUP as an async sequence (the reload signal). ServiceLifecycle handles SIGTERM and SIGINT.
///
/// `@unchecked Sendable`: both stored properties are immutable; `AsyncStream` is Sendable, and a
/// dispatch source may be cancelled from any thread (Dispatch documents sources as thread-safe).
public final class SignalStream: AsyncSequence, @unchecked Sendable {
    public typealias Element = Void

    private let stream: AsyncStream<Void>
    private let source: any DispatchSourceSignal

    private init(signal number: Int32) {
        signal(number, SIG_IGN)
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { continuation.yield() }
        source.setCancelHandler { continuation.finish() }
        source.resume()
        self.stream = stream
        self.source = source
    }

    public static func hangups() -> SignalStream { SignalStream(signal: SIGHUP) }

    public func stop() { source.cancel() }

    public func makeAsyncIterator() -> AsyncStream<Void>.AsyncIterator { stream.makeAsyncIterator() }
}
