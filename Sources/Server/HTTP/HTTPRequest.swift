import Foundation

/// One HTTP request as the transport delivered it, body complete. Transport-neutral: the
/// libmicrohttpd adapter builds it, tests build it directly.
public struct HTTPRequest: Sendable {
    /// Upper-case method, e.g. "POST".
    public var method: String
    /// Path without the query string, percent-decoded, e.g. "/v1/models/smollm2".
    public var path: String
    public var query: [(name: String, value: String)]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Lets long-running handlers notice that the client went away (or the server is stopping).
    public var connection: any ClientConnection
    /// When the transport finished reading the request (monotonic seconds, `MonotonicClock`).
    public var receivedAt: Double

    public init(method: String, path: String, query: [(name: String, value: String)] = [], headers: HTTPHeaders = HTTPHeaders(),
                body: [UInt8] = [], connection: any ClientConnection = AlwaysConnected(), receivedAt: Double = MonotonicClock.now()) {
        self.method = method.uppercased(); self.path = path; self.query = query; self.headers = headers
        self.body = body; self.connection = connection; self.receivedAt = receivedAt
    }

    /// A request with a JSON body (for tests and internal callers).
    public init(method: String, path: String, json: String, headers: [(String, String)] = []) {
        self.init(method: method, path: path, headers: HTTPHeaders(headers + [("Content-Type", "application/json")]),
                  body: Array(json.utf8))
    }
}

/// Header fields with case-insensitive lookup; order and duplicates are kept.
public struct HTTPHeaders: Sendable, Sequence {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(String, String)] = []) { self.fields = fields.map { (name: $0.0, value: $0.1) } }

    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    /// The first value of `name`, compared case-insensitively.
    public subscript(name: String) -> String? {
        let lowered = name.lowercased()
        return fields.first { $0.name.lowercased() == lowered }?.value
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }
}

/// The transport's view of whether the client is still there.
public protocol ClientConnection: Sendable {
    /// True once the peer closed its socket or the server is aborting in-flight requests; the
    /// handler then cancels its generation and returns.
    var isClosed: Bool { get }
    /// True when `isClosed` is because the server is stopping (the client may still be there and
    /// gets a `shutting_down` answer).
    var isServerStopping: Bool { get }
}

extension ClientConnection {
    public var isServerStopping: Bool { false }
}

/// A connection that never closes (requests built in tests).
public struct AlwaysConnected: ClientConnection {
    public init() {}
    public var isClosed: Bool { false }
}

/// Monotonic seconds for durations (request timing, latency histograms).
public enum MonotonicClock {
    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }
}
