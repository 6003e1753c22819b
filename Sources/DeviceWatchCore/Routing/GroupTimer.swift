import Foundation

/// The group timing stage, pure: whether a receiver's group is to be notified now, and when it
/// may next need to be (the counterpart of Alertmanager's `needsUpdate`).
///
/// A new group is sent `group_wait` after it appears; later changes (newly firing alerts, or
/// resolves to tell) at most every `group_interval` after the last notification; an unchanged
/// firing group again every `repeat_every` (unless every firing alert is acknowledged); a group of
/// resolves only, never notified, at once.
struct GroupTimer: Sendable, Equatable {
    var groupWait: Duration
    var groupInterval: Duration
    var repeatEvery: Duration

    /// What the timer looks at of a group.
    struct Group: Sendable, Equatable {
        var createdAt: Date
        var lastSentAt: Date?
        /// Some alert of the group fires, unmuted.
        var firing: Bool
        /// Something to tell since the last notification: a newly firing alert or a resolve.
        var changed: Bool
        /// Every firing alert is acknowledged: nothing is repeated.
        var acknowledged = false
    }

    /// Why to notify the group now; nil when it waits.
    func reason(_ group: Group, at now: Date) -> NotificationIntent.Reason? {
        if let last = group.lastSentAt {
            if group.changed, now.duration(since: last) >= groupInterval {
                return group.firing ? .changed : .resolved
            }
            if !group.changed, group.firing, !group.acknowledged, now.duration(since: last) >= repeatEvery {
                return .repeat
            }
            return nil
        }
        if group.firing { return now.duration(since: group.createdAt) >= groupWait ? .new : nil }
        return group.changed ? .resolved : nil
    }

    /// When the group may next need a notification if nothing else changes; nil when never.
    func nextDue(_ group: Group) -> Date? {
        if let last = group.lastSentAt {
            if group.changed { return last + groupInterval }
            return group.firing && !group.acknowledged ? last + repeatEvery : nil
        }
        return group.firing ? group.createdAt + groupWait : nil
    }
}
