import DeviceWatchCore
import Foundation

/// The JSON shapes of the ops API (`/api/v1/*`, `/readyz`), written by ``JSONOutput``; times in ISO-8601.
enum OpsResources {
    struct DeviceResource: Encodable {
        var id: String
        var name: String
        var hostname: String?
        var status: String?
        var lastHeartbeat: String?
        var rfdmVersion: String?
        var tags: [String]

        init(_ device: Device) {
            id = device.id
            name = device.displayName
            hostname = device.hostname
            status = device.status?.description
            lastHeartbeat = device.lastHeartbeat.map(Timestamp.format)
            rfdmVersion = device.rfdmVersion
            tags = device.tags
        }
    }

    struct AcknowledgementResource: Encodable {
        var id: String
        var author: String
        var comment: String
        var at: String
        var until: String
        var alerts: [String]
        var group: String?

        init(_ acknowledgement: Acknowledgement) {
            id = acknowledgement.id
            author = acknowledgement.author
            comment = acknowledgement.comment
            at = Timestamp.format(acknowledgement.createdAt)
            until = Timestamp.format(acknowledgement.endsAt)
            alerts = acknowledgement.alerts.keys.sorted()
            group = acknowledgement.groupKey
        }
    }

    struct AlertResource: Encodable {
        var fingerprint: String
        var rule: String
        var workspace: String
        var state: String
        var severity: String
        var summary: String
        /// The rule's description, rendered like the summary.
        var description: String?
        var labels: [String: String]
        var activeSince: String
        var firingSince: String?
        var resolvedAt: String?
        /// The device; for a fleet alert, a stand-in named by the group's key (see ``group``).
        var device: DeviceResource
        /// A fleet alert's group: its key, counts and members.
        var group: FleetFacts?
        /// Set while the alert is flapping: since when, and its changes within the rule's window.
        var flapping: FlappingResource?
        /// Set while an acknowledgement holds: who, when, why, until when.
        var acknowledged: AcknowledgementResource?

        struct FlappingResource: Encodable {
            var since: String
            var changes: Int
        }

        init(_ alert: AlertInstance, rules: RuleSet, acknowledgement: Acknowledgement? = nil) {
            acknowledged = acknowledgement.map(AcknowledgementResource.init)
            fingerprint = alert.fingerprint
            rule = alert.key.ruleID
            workspace = alert.key.workspace
            state = alert.state.rawValue
            severity = alert.severity.rawValue
            summary = rules.summary(of: alert)
            description = rules.description(of: alert)
            labels = alert.labels
            activeSince = Timestamp.format(alert.activeSince)
            firingSince = alert.firingSince.map(Timestamp.format)
            resolvedAt = alert.resolvedAt.map(Timestamp.format)
            device = DeviceResource(alert.device)
            group = alert.fleet
            flapping = alert.flappingSince.map {
                FlappingResource(since: Timestamp.format($0), changes: alert.flips?.count ?? 0)
            }
        }
    }

    struct SilenceResource: Encodable {
        var id: String
        var matchers: [String]
        var startsAt: String
        var endsAt: String
        var comment: String
        var author: String
        var createdAt: String
        var state: String
        /// Time left on the engine's clock (`23h59m`), until it ends; nil once it has.
        var endsIn: String?
        /// The time intervals it mutes during, when it is limited to them.
        var during: [String]?

        /// - Parameter now: the engine's clock (the API's), which the silence is on.
        init(_ silence: Silence, now: Date) {
            id = silence.id
            matchers = silence.matchers.map(\.description)
            startsAt = Timestamp.format(silence.startsAt)
            endsAt = Timestamp.format(silence.endsAt)
            comment = silence.comment
            author = silence.author
            createdAt = Timestamp.format(silence.createdAt)
            state = silence.isActive(at: now) ? "active" : (silence.startsAt > now ? "future" : "expired")
            endsIn = silence.endsAt > now ? DurationText.format(seconds: silence.endsAt.timeIntervalSince(now)) : nil
            during = silence.during
        }
    }

    /// `POST /api/v1/silences`: what `silence add` takes.
    struct SilenceRequestBody: Decodable {
        var matchers: [String]?
        var duration: String?
        var comment: String?
        var author: String?
        var startsAt: String?
        var during: [String]?
    }

    struct NotificationResource: Encodable {
        var id: String
        var receiver: String
        var groupKey: String
        var reason: String
        var state: String
        var attempts: Int
        var firing: Int
        var resolved: Int
        var createdAt: String
        var updatedAt: String
        var nextAttemptAt: String?
        var lastError: String?

        init(_ entry: OutboxEntry) {
            id = entry.intent.id
            receiver = entry.intent.receiver
            groupKey = entry.intent.groupKey
            reason = entry.intent.reason.rawValue
            state = entry.state.rawValue
            attempts = entry.attempts
            firing = entry.intent.firing.count
            resolved = entry.intent.resolved.count
            createdAt = Timestamp.format(entry.createdAt)
            updatedAt = Timestamp.format(entry.updatedAt)
            nextAttemptAt = entry.state == .pending ? Timestamp.format(entry.nextAttemptAt) : nil
            lastError = entry.lastError
        }
    }

    struct WorkspaceResource: Encodable {
        var lastSuccess: String?
        var failingSince: String?
        var failure: String?
        var blind: Bool
        var devices: FleetCounts?
    }

    struct ReadinessResource: Encodable {
        struct Config: Encodable {
            var reload: String
            var at: String
            var problems: [String]
        }

        struct Lease: Encodable {
            struct Holder: Encodable {
                var owner: String
                var epoch: Int64
                var expiresIn: String
            }

            var database: String
            /// This worker.
            var worker: String
            var leaseTtl: String
            var renewedAt: String?
            /// The workspaces this worker holds, with their epochs.
            var holds: [String: Int64]
            var workers: [String]
            /// Every workspace's lease.
            var leases: [String: Holder]
        }

        var ready: Bool
        var problems: [String]
        var config: Config
        var workspaces: [String: WorkspaceResource]
        /// On PostgreSQL: which database, held by this worker since its last renewal.
        var database: Lease?

        init(_ status: WorkerStatus) {
            ready = status.readiness.ready
            database = status.lease.map {
                Lease(
                    database: $0.database, worker: $0.owner, leaseTtl: DurationText.format($0.ttl),
                    renewedAt: $0.renewedAt == .distantPast ? nil : Timestamp.format($0.renewedAt), holds: $0.held,
                    workers: $0.workers,
                    leases: Dictionary(
                        $0.leases.map {
                            (
                                $0.workspace,
                                Lease.Holder(
                                    owner: $0.owner, epoch: $0.epoch,
                                    expiresIn: $0.secondsLeft > 0
                                        ? DurationText.format(seconds: $0.secondsLeft.rounded(.up)) : "expired")
                            )
                        }, uniquingKeysWith: { first, _ in first }))
            }
            problems = status.readiness.problems
            config = Config(
                reload: status.reload.succeeded ? "ok" : "failed", at: Timestamp.format(status.reload.at),
                problems: status.reload.problems)
            workspaces = [:]
            for workspace in status.workspaces {
                let health = status.health[workspace]
                workspaces[workspace] = WorkspaceResource(
                    lastSuccess: health?.lastSuccess.map(Timestamp.format),
                    failingSince: health?.failingSince.map(Timestamp.format),
                    failure: health?.failure, blind: status.blindWorkspaces.contains(workspace),
                    devices: status.fleet[workspace])
            }
        }
    }

    struct ErrorResource: Encodable {
        var error: String
        var problems: [String]?
    }
}
