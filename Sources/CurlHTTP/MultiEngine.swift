import CCurl
import Foundation
import Synchronization

/// Drives one libcurl multi handle on one dedicated thread, so many transfers run at once
/// over a shared connection pool.
///
/// Callers hand transfers over through a locked inbox; the thread adds them to the multi
/// handle, performs, and resumes each transfer's continuation when libcurl reports it done.
final class MultiEngine: Sendable {
    private struct Inbox {
        var submitted: [EasyTransfer] = []
        var cancelled: [EasyTransfer] = []
        var stopping = false
    }

    private let inbox = Mutex(Inbox())
    /// The multi handle; used by the engine thread only, except `curl_multi_wakeup`, which is thread-safe.
    private nonisolated(unsafe) let multi: UnsafeMutableRawPointer
    private let stopped = Mutex<Bool>(false)
    private let finishedSignal = DispatchSemaphore(value: 0)

    init(maxConnectionsPerHost: Int, connectionCacheSize: Int) {
        CurlGlobal.ensureInitialized()
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        _ = dw_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        _ = dw_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, connectionCacheSize)
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "devicewatch.curl"
        thread.start()
    }

    /// Queues a transfer; returns false if it was cancelled before it could start.
    func submit(_ transfer: EasyTransfer) -> Bool {
        let accepted = inbox.withLock { inbox -> Bool in
            guard transfer.lifecycle == .created, !inbox.stopping else { return false }
            transfer.lifecycle = .submitted
            inbox.submitted.append(transfer)
            return true
        }
        if accepted { curl_multi_wakeup(multi) }
        return accepted
    }

    /// Aborts a transfer wherever it is: not yet submitted, queued, or running.
    func cancel(_ transfer: EasyTransfer) {
        let wake = inbox.withLock { inbox -> Bool in
            switch transfer.lifecycle {
            case .created:
                transfer.lifecycle = .cancelledBeforeSubmit
                return false
            case .submitted:
                inbox.cancelled.append(transfer)
                return true
            case .cancelledBeforeSubmit, .finished:
                return false
            }
        }
        if wake { curl_multi_wakeup(multi) }
    }

    /// Stops the thread, failing every transfer still in flight with ``CurlHTTPError/Kind/shutdown``.
    func shutdown() {
        let first = stopped.withLock { stopped -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        inbox.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
        finishedSignal.wait()
    }

    // MARK: The engine thread

    private func runLoop() {
        var active: [UnsafeMutableRawPointer: EasyTransfer] = [:]
        while true {
            let (submitted, cancelled, stopping) = inbox.withLock { inbox in
                defer {
                    inbox.submitted.removeAll(keepingCapacity: true)
                    inbox.cancelled.removeAll(keepingCapacity: true)
                }
                return (inbox.submitted, inbox.cancelled, inbox.stopping)
            }
            for transfer in submitted {
                let code = curl_multi_add_handle(multi, transfer.handle)
                if code == CURLM_OK {
                    active[transfer.handle] = transfer
                } else {
                    finish(
                        transfer,
                        .failure(
                            CurlHTTPError(
                                kind: .other, redactedURL: transfer.redactedURL,
                                detail: String(cString: curl_multi_strerror(code)))))
                }
            }
            for transfer in cancelled {
                guard active.removeValue(forKey: transfer.handle) != nil else { continue }
                curl_multi_remove_handle(multi, transfer.handle)
                finish(transfer, .failure(CurlHTTPError(kind: .cancelled, redactedURL: transfer.redactedURL)))
            }
            if stopping {
                for transfer in active.values {
                    curl_multi_remove_handle(multi, transfer.handle)
                    finish(transfer, .failure(CurlHTTPError(kind: .shutdown, redactedURL: transfer.redactedURL)))
                }
                active.removeAll()
                break
            }

            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                    let transfer = active.removeValue(forKey: handle)
                else { continue }
                let code = message.pointee.data.result
                let result = transfer.result(code: code)
                curl_multi_remove_handle(multi, handle)
                finish(transfer, result.mapError { $0 as any Error })
            }
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        curl_multi_cleanup(multi)
        finishedSignal.signal()
    }

    private func finish(_ transfer: EasyTransfer, _ result: Result<HTTPResponseData, any Error>) {
        inbox.withLock { _ in transfer.lifecycle = .finished }
        transfer.continuation?.resume(with: result)
        transfer.continuation = nil
    }
}
