/// Why one request of a load test failed; the report counts failures by `key`
/// ("HTTP 503", "timeout", "connection", "protocol", "stream").
public struct RequestFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The server answered with a status other than 200.
        case http
        /// No byte arrived for the socket timeout.
        case timeout
        /// Connect, send or receive failed (refused, reset).
        case connection
        /// The response broke HTTP or SSE framing, or ended without `data: [DONE]`.
        case protocolViolation = "protocol"
        /// The stream carried an error object instead of (or after) tokens.
        case stream
    }

    public var kind: Kind
    /// The HTTP status for `.http`.
    public var status: Int?
    public var message: String

    public init(_ kind: Kind, status: Int? = nil, _ message: String) {
        self.kind = kind; self.status = status; self.message = message
    }

    /// The counter this failure goes to.
    public var key: String { kind == .http ? "HTTP \(status ?? 0)" : kind.rawValue }

    public var description: String { "\(key): \(message)" }
}
