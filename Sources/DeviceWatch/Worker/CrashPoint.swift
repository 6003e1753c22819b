import Foundation

/// Test hook for crash-safety tests: when `DEVICEWATCH_CRASH_AT` names a point, the process kills
/// itself with SIGKILL there, exactly as `kill -9` at that instant would. Unset in production.
public enum CrashPoint: String, Sendable {
    /// A cycle's changes are computed, not yet committed.
    case beforeCommit = "before-commit"
    /// Committed, not yet handed to the dispatcher.
    case afterCommit = "after-commit"
    /// A receiver answered 2xx, and the outbox does not know yet.
    case afterDelivery = "after-delivery"

    private static let armed: CrashPoint? = ProcessInfo.processInfo.environment["DEVICEWATCH_CRASH_AT"].flatMap(
        CrashPoint.init)
    /// Skip this many hits first (`DEVICEWATCH_CRASH_AFTER`), to crash later in a run.
    nonisolated(unsafe) private static var skip =
        Int(ProcessInfo.processInfo.environment["DEVICEWATCH_CRASH_AFTER"] ?? "0") ?? 0
    private static let lock = NSLock()

    public func hit() {
        guard Self.armed == self else { return }
        let fire = Self.lock.withLock { () -> Bool in
            if Self.skip > 0 {
                Self.skip -= 1
                return false
            }
            return true
        }
        if fire { kill(getpid(), SIGKILL) }
    }
}
