import Foundation

/// An `http://` base URL on this machine's loopback interface: 127.0.0.0/8, `::1` or
/// `localhost`. Anything else is refused, because a load test must never send traffic to
/// another machine (and this machine's rules forbid it).
public struct LoopbackEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// The literal address connected to (`localhost` becomes 127.0.0.1, without DNS).
    public let address: String
    public let isIPv6: Bool
    public let port: Int
    /// The URL's path without a trailing slash: "" or e.g. "/v1".
    public let basePath: String
    /// The URL as given, for reports.
    public let url: String

    public init(url: String) throws(LoadTestError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw LoadTestError("'\(url)' is not a URL; expected e.g. http://127.0.0.1:8080")
        }
        guard scheme == "http" else {
            throw LoadTestError("'\(url)': only plain http:// URLs are supported (loopback needs no TLS)")
        }
        guard var host = components.host, !host.isEmpty else {
            throw LoadTestError("'\(url)' has no host; expected e.g. http://127.0.0.1:8080")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let literal = Self.loopbackLiteral(host) else {
            throw LoadTestError(
                "refusing to send load to '\(host)': loadtest only targets this machine's loopback interface "
                    + "(127.0.0.0/8, ::1 or localhost); start the server with --host 127.0.0.1 and pass its local URL")
        }
        let port = components.port ?? 80
        guard (1...65535).contains(port) else { throw LoadTestError("'\(url)': port \(port) is out of range") }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        self.address = literal.address
        self.isIPv6 = literal.isIPv6
        self.port = port
        self.basePath = path
        self.url = url
    }

    public var description: String { url }

    /// The request target for an API path such as "/v1/chat/completions": the base path is
    /// prefixed, and a base that already ends in "/v1" is not repeated.
    public func target(_ apiPath: String) -> String {
        if basePath.hasSuffix("/v1") && apiPath.hasPrefix("/v1/") {
            return basePath + apiPath.dropFirst(3)
        }
        return basePath + apiPath
    }

    /// The `Host` header value.
    public var hostHeader: String { isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }

    /// The literal loopback address for `host`, nil when `host` is not loopback. Only literal
    /// addresses and the name `localhost` qualify: no name is resolved.
    static func loopbackLiteral(_ host: String) -> (address: String, isIPv6: Bool)? {
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered == "localhost." { return ("127.0.0.1", false) }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            let firstOctet = UInt32(bigEndian: v4.s_addr) >> 24
            return firstOctet == 127 ? (host, false) : nil
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            var loopback = in6addr_loopback
            let isLoopback = withUnsafeBytes(of: &v6) { a in withUnsafeBytes(of: &loopback) { b in a.elementsEqual(b) } }
            return isLoopback ? (host, true) : nil
        }
        return nil
    }
}
