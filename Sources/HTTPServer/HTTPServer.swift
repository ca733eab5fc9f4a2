import CMicroHTTPD
import CShims
import Foundation
import Server

/// The HTTP transport: libmicrohttpd with one thread per connection. A request's thread runs
/// the handler; a streamed response's thread blocks in the stream until the next chunk exists
/// (measured simpler than epoll + suspend/resume and as fast at these connection counts).
///
/// Binds 127.0.0.1 unless told otherwise; bodies over the limit get 413; connections are
/// bounded and time out when idle; `stop(gracePeriod:)` stops accepting, lets running requests
/// finish for a bounded time, then cancels the rest.
public final class HTTPServer: @unchecked Sendable {
    public let options: HTTPServerOptions
    private let state: HTTPServerState
    private let lock = NSLock()
    private var daemon: OpaquePointer?
    private var boundPort = 0

    /// `logger` receives libmicrohttpd's own messages (as warnings); nil drops them.
    public init(options: HTTPServerOptions, handler: any HTTPHandler, logger: Logger? = nil) {
        self.options = options
        self.state = HTTPServerState(handler: handler, logger: logger, maxBodyBytes: options.maxBodyBytes)
    }

    deinit {
        if let daemon { MHD_stop_daemon(daemon) }
    }

    /// Starts listening; afterwards `port` is the bound port (useful with port 0).
    public func start() throws(HTTPServerError) {
        var address = try SocketAddress(host: options.host, port: options.port)
        var flags = MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_THREAD_PER_CONNECTION.rawValue
            | MHD_USE_ITC.rawValue | MHD_USE_POLL.rawValue | MHD_USE_ERROR_LOG.rawValue
        if address.isIPv6 { flags |= MHD_USE_IPv6.rawValue }
        let context = Unmanaged.passUnretained(state).toOpaque()
        let started = withUnsafePointer(to: &address.storage) { storage in
            storage.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                shim_mhd_start(UInt32(flags), socketAddress, MHDCallbacks.accessHandler, context,
                               MHDCallbacks.requestCompleted, context, MHDCallbacks.log, context,
                               UInt32(options.connectionTimeoutSeconds),
                               UInt32(options.connectionLimit), 0, 64 * 1024)
            }
        }
        guard let started else {
            throw HTTPServerError("cannot listen on \(options.host):\(options.port) (is the port in use, or the address not local?)")
        }
        lock.withLock {
            daemon = started
            boundPort = Int(shim_mhd_bound_port(started))
        }
    }

    /// The port the server listens on (0 before `start`).
    public var port: Int { lock.withLock { boundPort } }

    /// Requests currently being handled or answered.
    public var activeRequestCount: Int { state.activeRequestCount }

    /// Open connections, idle keep-alive ones included.
    public var openConnectionCount: Int {
        lock.withLock { daemon.map { Int(shim_mhd_current_connections($0)) } ?? 0 }
    }

    /// Graceful stop: close the listening socket, answer new requests on open connections with
    /// 503, wait up to `gracePeriod` seconds for running requests, then cancel what still runs
    /// (streams end, generations are cancelled) and stop the daemon. Idempotent.
    public func stop(gracePeriod: Double) {
        guard let daemon = lock.withLock({ () -> OpaquePointer? in
            let current = self.daemon
            self.daemon = nil
            return current
        }) else { return }
        let listening = MHD_quiesce_daemon(daemon)
        if listening >= 0 { close(listening) }
        state.isDraining = true
        let deadline = MonotonicClock.now() + gracePeriod
        while state.activeRequestCount > 0 && MonotonicClock.now() < deadline { usleep(10_000) }
        state.isAborting = true
        let abortDeadline = MonotonicClock.now() + 5
        while state.activeRequestCount > 0 && MonotonicClock.now() < abortDeadline { usleep(10_000) }
        MHD_stop_daemon(daemon)
    }
}
