/// How many workspaces one worker of a cluster should hold, and which it gives up: the
/// workspaces spread across the live workers, each holding at most its share (the configured
/// workspaces over the live workers, rounded up). A worker holding more than its share stops
/// renewing the excess (it releases them, so another takes them at once); one holding fewer takes
/// free ones, up to its share. Nothing moves while every worker holds its share.
struct LeaseShare: Equatable {
    /// The leases to renew, with the epochs they are held at.
    var keep: [String: Int64]
    /// The leases to give up: beyond the share, or of workspaces no longer configured.
    var release: [String]
    /// How many more to take, if free.
    var takeLimit: Int
    /// The workspaces worth trying to take: configured, not held, not just released.
    var candidates: [String]

    init(configured: [String], held: [String: Int64], liveWorkers: Int) {
        let wanted = Set(configured)
        let share = configured.isEmpty ? 0 : (configured.count + max(1, liveWorkers) - 1) / max(1, liveWorkers)
        // In name order, the last ones go first: every worker gives up the same way, so a
        // workspace is not handed back and forth.
        let heldWanted = held.keys.filter { wanted.contains($0) }.sorted()
        let kept = heldWanted.prefix(share)
        keep = Dictionary(uniqueKeysWithValues: kept.map { ($0, held[$0]!) })
        release = (held.keys.filter { !wanted.contains($0) } + heldWanted.dropFirst(share)).sorted()
        takeLimit = max(0, share - keep.count)
        let excluded = Set(held.keys)
        candidates = configured.filter { !excluded.contains($0) }.sorted()
    }
}
