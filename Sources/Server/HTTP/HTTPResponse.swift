import JSON

/// A response: status, headers and either a complete body or a stream the transport pulls from.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Body

    public enum Body: Sendable {
        case bytes([UInt8])
        case stream(any ResponseStream)
    }

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Body) {
        self.status = status; self.headers = headers; self.body = body
    }

    /// A JSON body with `Content-Type: application/json`.
    public static func json(_ value: JSONValue, status: Int = 200, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers,
                     body: .bytes(value.serialized()))
    }

    /// A plain-text body (Prometheus exposition and the like).
    public static func text(_ text: String, contentType: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: .bytes(Array(text.utf8)))
    }

    /// A server-sent event stream.
    public static func eventStream(_ stream: any ResponseStream) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                                            ("X-Accel-Buffering", "no")],
                     body: .stream(stream))
    }

    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// The complete body of a `.bytes` response (tests).
    public var bodyBytes: [UInt8]? {
        if case .bytes(let bytes) = body { return bytes }
        return nil
    }
}

/// A response body produced while it is sent (SSE). The transport calls `nextChunk()` from the
/// connection's thread until it returns nil, then `close(completed:)` exactly once.
public protocol ResponseStream: AnyObject, Sendable {
    /// Blocks until the next bytes exist; nil ends the body. Never returns an empty array.
    func nextChunk() -> [UInt8]?
    /// The transport is done with the stream: `completed` is false when the client went away or
    /// the server aborted before the end. Must cancel whatever still runs.
    func close(completed: Bool)
}

/// Something that handles requests: the API server, or a test double.
public protocol HTTPHandler: AnyObject, Sendable {
    func handle(_ request: HTTPRequest) -> HTTPResponse
    /// The answer to a request the transport refused before reading it whole (body over the
    /// limit, server draining); lets the handler log and count it.
    func reject(method: String, path: String, error: APIError) -> HTTPResponse
}

extension HTTPHandler {
    public func reject(method: String, path: String, error: APIError) -> HTTPResponse { error.response }
}
