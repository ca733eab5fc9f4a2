import Foundation
import Server

/// State the libmicrohttpd callbacks share with `HTTPServer`: the handler, limits, and the
/// shutdown phase. Passed to the daemon as its context pointer.
final class HTTPServerState: @unchecked Sendable {
    let handler: any HTTPHandler
    let logger: Logger?
    let maxBodyBytes: Int
    /// Oversized bodies up to this size are read and discarded before the 413 (see MHDCallbacks).
    var discardLimitBytes: Int { max(4 * maxBodyBytes, 64 * 1024 * 1024) }
    private let lock = NSLock()
    private var activeRequests = 0
    private var drainingFlag = false
    private var abortingFlag = false

    init(handler: any HTTPHandler, logger: Logger?, maxBodyBytes: Int) {
        self.handler = handler; self.logger = logger; self.maxBodyBytes = maxBodyBytes
    }

    /// Requests between their first byte and the end of their response.
    var activeRequestCount: Int { lock.withLock { activeRequests } }

    func requestBegan() { lock.withLock { activeRequests += 1 } }
    func requestEnded() { lock.withLock { activeRequests -= 1 } }

    /// New requests are refused with 503 (the listening socket is already closed).
    var isDraining: Bool {
        get { lock.withLock { drainingFlag } }
        set { lock.withLock { drainingFlag = newValue } }
    }

    /// Requests still running are told their client is gone, so they cancel and return.
    var isAborting: Bool {
        get { lock.withLock { abortingFlag } }
        set { lock.withLock { abortingFlag = newValue } }
    }
}
