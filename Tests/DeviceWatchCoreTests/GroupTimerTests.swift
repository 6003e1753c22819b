import Foundation
import Testing

@testable import DeviceWatchCore

/// The group timing stage by table: when a receiver hears about a group, and when next it may.
@Suite("GroupTimer")
struct GroupTimerTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let timer = GroupTimer(groupWait: .seconds(30), groupInterval: .seconds(300), repeatEvery: .seconds(3600))

    static func group(created: Double = 0, sent: Double? = nil, firing: Bool, changed: Bool) -> GroupTimer.Group {
        GroupTimer.Group(
            createdAt: t0.addingTimeInterval(created), lastSentAt: sent.map { t0.addingTimeInterval($0) },
            firing: firing,
            changed: changed)
    }

    @Test(arguments: [
        // (group, seconds after t0, reason now, next due in seconds after t0); first, group_wait runs
        (group(firing: true, changed: true), 10.0, nil as NotificationIntent.Reason?, 30.0 as Double?),
        (group(firing: true, changed: true), 30, .new, 30),
        (group(firing: false, changed: true), 5, .resolved, nil),  // never told: resolves at once
        (group(firing: false, changed: false), 5, nil, nil),
        (group(sent: 0, firing: true, changed: true), 299, nil, 300),  // group_interval runs
        (group(sent: 0, firing: true, changed: true), 300, .changed, 300),
        (group(sent: 0, firing: false, changed: true), 300, .resolved, 300),
        (group(sent: 0, firing: true, changed: false), 3599, nil, 3600),  // repeat_every runs
        (group(sent: 0, firing: true, changed: false), 3600, .repeat, 3600),
        (group(sent: 0, firing: false, changed: false), 9999, nil, nil),  // all told, nothing firing
    ])
    func decidesLikeAlertmanagersNeedsUpdate(
        group: GroupTimer.Group, at seconds: Double, reason: NotificationIntent.Reason?, due: Double?
    ) {
        #expect(timer.reason(group, at: Self.t0.addingTimeInterval(seconds)) == reason)
        #expect(timer.nextDue(group) == due.map { Self.t0.addingTimeInterval($0) })
    }
}
