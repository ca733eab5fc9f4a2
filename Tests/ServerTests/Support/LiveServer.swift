import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPServer
import Server
import Testing

/// The real libmicrohttpd server on 127.0.0.1, a free port, over the fake engine.
final class LiveServer: @unchecked Sendable {
    let harness: Harness
    let http: HTTPServer
    var port: Int { http.port }
    var base: String { "http://127.0.0.1:\(port)" }

    init(options: ServerOptions = Harness.defaultOptions, service: FakeGenerationService = FakeGenerationService(),
         transport: HTTPServerOptions = LiveServer.transportOptions) throws {
        harness = Harness(options: options, service: service)
        var transport = transport
        transport.host = "127.0.0.1"
        transport.port = 0
        http = HTTPServer(options: transport, handler: harness.server, logger: harness.logs.logger())
        try http.start()
    }

    static var transportOptions: HTTPServerOptions {
        var options = HTTPServerOptions()
        options.maxBodyBytes = 64 * 1024
        options.connectionTimeoutSeconds = 30
        return options
    }

    deinit { http.stop(gracePeriod: 0) }

    func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) -> URLRequest {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return request
    }

    /// Sends a request and returns status, headers and body.
    func send(_ request: URLRequest) async throws -> (status: Int, headers: [AnyHashable: Any], body: Data) {
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return (http.statusCode, http.allHeaderFields, data)
    }
}

/// Collects a streamed response as it arrives (URLSession delegate), with arrival times.
final class StreamCollector: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var received: [(time: Double, data: Data)] = []
    private var finished = false
    private var statusCode = 0
    private var failure: Error?
    private let done = DispatchSemaphore(value: 0)
    private var session: URLSession!
    private var task: URLSessionDataTask!

    init(_ request: URLRequest) {
        super.init()
        session = URLSession(configuration: .ephemeral, delegate: self, delegateQueue: nil)
        task = session.dataTask(with: request)
        task.resume()
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        lock.withLock { statusCode = (response as? HTTPURLResponse)?.statusCode ?? 0 }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.withLock { received.append((MonotonicClock.now(), data)) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.withLock { finished = true; failure = error }
        done.signal()
    }

    var chunks: [(time: Double, data: Data)] { lock.withLock { received } }
    var text: String { String(decoding: chunks.reduce(Data()) { $0 + $1.data }, as: UTF8.self) }
    var status: Int { lock.withLock { statusCode } }
    var isFinished: Bool { lock.withLock { finished } }

    /// Waits until the response ended; false on timeout.
    func wait(timeout: Double = 20) -> Bool {
        let ended = done.wait(timeout: .now() + timeout) == .success
        if ended { session.finishTasksAndInvalidate() }
        return ended
    }

    /// Waits until `predicate` holds for the text received so far.
    func waitFor(timeout: Double = 10, _ predicate: (String) -> Bool) -> Bool {
        let deadline = MonotonicClock.now() + timeout
        while MonotonicClock.now() < deadline {
            if predicate(text) { return true }
            usleep(5_000)
        }
        return false
    }

    /// Drops the connection like a client that goes away.
    func cancel() {
        task.cancel()
        session.invalidateAndCancel()
    }
}

/// A plain TCP connection for what URLSession hides (raw bytes, idle or half-done requests).
final class RawConnection {
    let socket: Int32

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw HTTPServerError("connect failed: \(String(cString: strerror(errno)))") }
    }

    deinit { close(socket) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Reads until the peer closes, `until` appears, or `timeout` passes. `closed` tells whether
    /// the peer closed (or reset) the connection.
    func read(timeout: Double, until marker: String? = nil) -> (text: String, closed: Bool) {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = MonotonicClock.now() + timeout
        while MonotonicClock.now() < deadline {
            var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, 20)
            if ready <= 0 { continue }
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { return (String(decoding: bytes, as: UTF8.self), true) }
            bytes += buffer[0..<count]
            if let marker, String(decoding: bytes, as: UTF8.self).contains(marker) { break }
        }
        return (String(decoding: bytes, as: UTF8.self), false)
    }
}
