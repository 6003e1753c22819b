import DeviceWatch
import DeviceWatchCore
import Foundation

/// A clock that moves only when a test moves it: `sleep` suspends until ``advance(by:)`` passes
/// its deadline (or the sleeping task is cancelled). Tests drive rate limits and pauses with it
/// in milliseconds instead of waiting seconds of real time.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var sleepers: [UUID: (deadline: Date, continuation: CheckedContinuation<Void, any Error>)] = [:]

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    var now: Date { lock.withLock { current } }

    /// How many sleeps are waiting for the clock to move.
    var sleeping: Int { lock.withLock { sleepers.count } }

    var workerClock: WorkerClock {
        WorkerClock(now: { self.now }, sleep: { try await self.sleep($0) })
    }

    func sleep(_ duration: Duration) async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = lock.withLock {
                    if Task.isCancelled { return .failure(CancellationError()) }
                    let deadline = current + duration
                    if deadline <= current { return .success(()) }
                    sleepers[id] = (deadline, continuation)
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            lock.withLock { sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock on and wakes every sleep whose deadline it passed.
    func advance(by seconds: Double) {
        let woken = lock.withLock {
            current = current.addingTimeInterval(seconds)
            let due = sleepers.filter { $0.value.deadline <= current }
            for id in due.keys { sleepers.removeValue(forKey: id) }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Waits (in real time, bounded) until at least `count` sleeps are waiting for more than
    /// `longerThan` seconds of the clock: the code under test has got as far as waiting for it
    /// (a longer wait than the dispatcher's few milliseconds before recording outcomes, which
    /// sleeps on the clock too).
    func waitForSleepers(_ count: Int = 1, longerThan: Double = 0, seconds: Double = 10) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let waiting = lock.withLock {
                sleepers.values.filter { $0.deadline.timeIntervalSince(current) > longerThan }.count
            }
            if waiting >= count { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return false
    }

    /// Moves the clock on in small steps until `work` finishes, and returns what it returned: for
    /// waits on the clock the test does not count step by step (the dispatcher's record_within).
    func drive<T: Sendable>(until work: Task<T, Never>) async -> T {
        let driving = Task {
            while !Task.isCancelled {
                advance(by: 0.01)
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
        defer { driving.cancel() }
        return await work.value
    }
}
