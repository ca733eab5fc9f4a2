import Foundation

/// A minimal HTTP/1.1 GET over a plain socket, for `entropyinfer health` (the container image has
/// no curl, and FoundationNetworking would pull in libcurl).
public enum HTTPProbe {
    public struct Reply: Sendable {
        public var status: Int
        public var body: String
    }

    /// GETs `url` (`http://host:port/path`), giving up after `timeout` seconds.
    public static func get(_ url: String, timeout: Double = 5) throws(HTTPServerError) -> Reply {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host else {
            throw HTTPServerError("'\(url)' is not an http:// URL")
        }
        let port = components.port ?? 80
        let path = (components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath)
            + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        let address = try SocketAddress(host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: port)
        let socket = Glibc.socket(address.isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw HTTPServerError("cannot create a socket: \(String(cString: strerror(errno)))") }
        defer { close(socket) }
        var interval = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var storage = address.storage
        let length = socklen_t(address.isIPv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, length) }
        }
        guard connected == 0 else {
            throw HTTPServerError("cannot connect to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\nUser-Agent: entropyinfer-health\r\n\r\n"
        let sent = request.utf8CString.withUnsafeBufferPointer { send(socket, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
        guard sent == request.utf8.count else { throw HTTPServerError("cannot send the request to \(host):\(port)") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count > 0 { response += buffer[0..<count]; continue }
            if count == 0 { break }
            throw HTTPServerError("no answer from \(host):\(port) within \(timeout) s")
        }
        let text = String(decoding: response, as: UTF8.self)
        let statusLine = text.prefix { $0 != "\r" && $0 != "\n" }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            throw HTTPServerError("not an HTTP answer from \(host):\(port)")
        }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return Reply(status: status, body: body)
    }
}
