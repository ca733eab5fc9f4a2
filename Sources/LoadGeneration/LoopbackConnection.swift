import Foundation

/// One TCP connection to a loopback endpoint with a bound on every socket operation: connect
/// and send use SO_SNDTIMEO, each receive waits in `poll` for at most `timeout` seconds.
/// Blocking I/O on the calling thread (a load-test client owns one thread).
final class LoopbackConnection {
    private let socket: Int32
    private let timeout: Double
    private let endpoint: LoopbackEndpoint
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(endpoint: LoopbackEndpoint, timeout: Double) throws(RequestFailure) {
        self.endpoint = endpoint
        self.timeout = timeout
        let family = endpoint.isIPv6 ? AF_INET6 : AF_INET
        socket = Glibc.socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw RequestFailure(.connection, "cannot create a socket: \(String(cString: strerror(errno)))") }
        var interval = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var noDelay: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        let result: Int32
        if endpoint.isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(endpoint.port).bigEndian)
            inet_pton(AF_INET6, endpoint.address, &address.sin6_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(endpoint.port).bigEndian)
            inet_pton(AF_INET, endpoint.address, &address.sin_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(socket)
            throw RequestFailure(.connection, "cannot connect to \(endpoint.hostHeader): \(reason)")
        }
    }

    deinit { close(socket) }

    /// Sends every byte or throws.
    func send(_ bytes: [UInt8]) throws(RequestFailure) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else {
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw RequestFailure(.timeout, "cannot send the request to \(endpoint.hostHeader) within \(timeout) s")
                }
                throw RequestFailure(.connection, "cannot send the request to \(endpoint.hostHeader): \(String(cString: strerror(errno)))")
            }
            offset += sent
        }
    }

    /// Waits up to the timeout for bytes. Returns them with the monotonic time right after
    /// they were read; an empty array means the peer closed the connection.
    func receive() throws(RequestFailure) -> (bytes: ArraySlice<UInt8>, time: Double) {
        var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let deadline = MonotonicTime.now() + timeout
        while true {
            let remaining = deadline - MonotonicTime.now()
            guard remaining > 0 else {
                throw RequestFailure(.timeout, "no data from \(endpoint.hostHeader) for \(timeout) s")
            }
            let ready = poll(&entry, 1, Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            guard ready >= 0 else { throw RequestFailure(.connection, "poll failed: \(String(cString: strerror(errno)))") }
            if ready == 0 { continue }
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            let time = MonotonicTime.now()
            if count > 0 { return (buffer[0..<count], time) }
            if count == 0 { return ([], time) }
            if errno == EINTR || errno == EAGAIN { continue }
            throw RequestFailure(.connection, "connection to \(endpoint.hostHeader) failed: \(String(cString: strerror(errno)))")
        }
    }
}
