import Foundation

/// A resolved listening address (IPv4 or IPv6) in the `sockaddr` form libmicrohttpd binds.
struct SocketAddress {
    var storage = sockaddr_storage()
    var isIPv6 = false

    /// Resolves `host` (numeric or a name; the first result wins) with `port`.
    init(host: String, port: Int) throws(HTTPServerError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var results: UnsafeMutablePointer<addrinfo>? = nil
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
            throw HTTPServerError("cannot resolve listening address '\(host)': \(reason)")
        }
        defer { freeaddrinfo(results) }
        isIPv6 = first.pointee.ai_family == AF_INET6
        withUnsafeMutableBytes(of: &storage) { destination in
            let source = UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen))
            destination.copyMemory(from: source)
        }
    }
}
