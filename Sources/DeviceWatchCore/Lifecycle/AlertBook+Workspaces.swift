import Foundation

// A workspace's devices as polled: first sightings, observations (status and facts), coverage
// and poll health.
extension AlertBook.Observation {
    init(_ device: Device, at now: Date) {
        self.init(status: device.observedStatus(at: now), facts: KnownDevice.digest(of: device))
    }
}

extension AlertBook {
    /// A workspace's devices in the order of its latest poll, and what was observed of each then.
    struct Listing: Sendable {
        var ids: [String]
        var observed: [Observation]

        /// Whether `devices` are the same devices in the same order, each as observed before.
        func isUnchanged(_ devices: [Device], at now: Date) -> Bool {
            guard ids.count == devices.count else { return false }
            for (index, device) in devices.enumerated() {
                guard ids[index] == device.id, observed[index] == Observation(device, at: now) else { return false }
            }
            return true
        }
    }

    /// Records a successful poll's devices: their first sightings (``see(workspace:deviceIDs:at:)``)
    /// and what was observed of each (``observe(workspace:devices:at:)``). A poll that lists the
    /// same devices in the same order as the one before, each with the same status and facts (the
    /// steady state), is recognised by position: 100,000 devices are not looked up by id twice
    /// to find that nothing changed.
    public mutating func list(workspace: String, devices: [Device], at now: Date) {
        if let listing = listings[workspace], listing.isUnchanged(devices, at: now) { return }
        see(workspace: workspace, deviceIDs: devices.lazy.map(\.id), at: now)
        let observed = observe(workspace: workspace, devices: devices, at: now)
        // Only when each device is listed once (a repeated id is observed as last listed, so
        // its position would not say what the book holds).
        if observations[workspace]?.count == devices.count, firstSeen[workspace]?.count == devices.count {
            listings[workspace] = Listing(ids: devices.map(\.id), observed: observed)
        }
    }

    /// Records a workspace's devices as seen at `now`: new ones are first seen now, and devices
    /// no longer listed are forgotten (a device that returns counts as new).
    mutating func see(workspace: String, deviceIDs: some Collection<String>, at now: Date) {
        listings[workspace] = nil
        let existing = firstSeen.removeValue(forKey: workspace)
        // Copied (by `seen`'s first write) only in a cycle that sees or loses a device.
        var seen = existing ?? [:]
        var changed = false
        for id in deviceIDs where seen[id] == nil {
            seen[id] = now
            journal.firstSeenAdded.append((workspace, id, now))
            changed = true
        }
        if seen.count > deviceIDs.count {
            let listed = Set(deviceIDs)
            let gone = seen.keys.filter { !listed.contains($0) }
            for id in gone {
                seen.removeValue(forKey: id)
                journal.firstSeenRemoved.append((workspace, id))
            }
            changed = true
        }
        if changed, journal.firstSeenBefore.index(forKey: workspace) == nil {
            journal.firstSeenBefore[workspace] = .some(existing)
        }
        firstSeen[workspace] = seen
    }

    /// Records each listed device's status and facts at a poll of `now` (on the API's clock): a
    /// device whose status differs from its last (or that is new) gets a status log row, one
    /// whose facts changed a facts row, and a device no longer listed gets a `gone` row. A poll
    /// in which nothing changed journals nothing. Returns what it observed of each device, in the
    /// order listed.
    @discardableResult
    mutating func observe(workspace: String, devices: [Device], at now: Date) -> [Observation] {
        listings[workspace] = nil
        var observed: [Observation] = []
        observed.reserveCapacity(devices.count)
        // Lookups first: a poll in which no device changed (the steady state) must not copy the
        // workspace's observations, which a write would, since the journal keeps the original.
        var firstChange = devices.startIndex
        if let known = observations[workspace] {
            while firstChange < devices.endIndex {
                let device = devices[firstChange]
                let seen = Observation(device, at: now)
                guard known[device.id] == seen else { break }
                observed.append(seen)
                firstChange += 1
            }
            if firstChange == devices.endIndex, known.count <= devices.count { return observed }
        }
        let existing = observations.removeValue(forKey: workspace)
        var known = existing ?? [:]
        var changed = false
        for device in devices[firstChange...] {
            let seen = Observation(device, at: now)
            observed.append(seen)
            // One lookup: the old value comes back from the write.
            let old = known.updateValue(seen, forKey: device.id)
            guard old != seen else { continue }
            changed = true
            if old?.status != seen.status {
                journal.statusChanges.append(
                    StatusChange(workspace: workspace, deviceID: device.id, status: seen.status, at: now))
            }
            if old?.facts != seen.facts {
                journal.factsChanged.append(KnownDevice(workspace: workspace, device: device))
            }
        }
        if known.count > devices.count {
            let listed = Set(devices.lazy.map(\.id))
            for id in known.keys.sorted() where !listed.contains(id) {
                known.removeValue(forKey: id)
                journal.statusChanges.append(StatusChange(workspace: workspace, deviceID: id, status: nil, at: now))
            }
            changed = true
        }
        if changed, journal.observationsBefore.index(forKey: workspace) == nil {
            journal.observationsBefore[workspace] = .some(existing)
        }
        observations[workspace] = known
        return observed
    }

    /// Records a successful poll of `now` in the workspace's coverage: the span goes on when the
    /// previous poll was at most `gap` before (its end written at most every
    /// ``Coverage/writeEvery``), else a new span starts (what lies between is a blind spot).
    public mutating func cover(workspace: String, at now: Date, gap: Duration) {
        let previous = lastPoll[workspace] ?? coverage[workspace]?.end
        lastPoll[workspace] = now
        var span: CoverageSpan
        if let current = coverage[workspace], let previous, now >= previous, now.duration(since: previous) <= gap {
            guard now.duration(since: current.end) >= Coverage.writeEvery else { return }
            span = current
            span.end = now
        } else {
            span = CoverageSpan(workspace: workspace, start: now, end: now)
        }
        if journal.coverageBefore.index(forKey: workspace) == nil {
            journal.coverageBefore[workspace] = .some(coverage[workspace])
        }
        coverage[workspace] = span
    }

    /// Sets a workspace's poll health. A success after a success is not news and is not
    /// journaled; the first success, and every change in failure, is.
    public mutating func setHealth(_ new: WorkspaceHealth, of workspace: String) {
        let old = health[workspace]
        if journal.healthBefore.index(forKey: workspace) == nil { journal.healthBefore[workspace] = .some(old) }
        health[workspace] = new
        let news =
            old?.failingSince != new.failingSince || old?.failure != new.failure
            || old?.authFailure != new.authFailure || (old?.lastSuccess == nil && new.lastSuccess != nil)
        if news { journal.healthChanged.insert(workspace) }
    }
}
