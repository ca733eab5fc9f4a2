import Foundation
import JSON

/// A minimal HTTP/1.1 client for loopback servers: one connection per request
/// (`Connection: close`), the response parsed incrementally, and, for `text/event-stream`
/// answers, every server-sent event handed over with the time its last byte was read.
/// Written on POSIX sockets because URLSession on Linux buffers streamed bodies and hides
/// arrival times.
public struct LoopbackHTTPClient: Sendable {
    public let endpoint: LoopbackEndpoint
    /// Seconds any single socket operation may wait (connect, send, each receive).
    public let timeout: Double
    public let apiKey: String?

    /// A response body larger than this is cut off as a protocol failure (a load test never
    /// asks for anything near it; the bound keeps every read loop finite).
    public static let maxResponseBytes = 256 << 20

    public init(endpoint: LoopbackEndpoint, timeout: Double = 600, apiKey: String? = nil) {
        self.endpoint = endpoint; self.timeout = timeout; self.apiKey = apiKey
    }

    /// Sends a request and reads the whole response.
    public func send(method: String, path: String, body: [UInt8]? = nil) throws(RequestFailure) -> (head: HTTPResponseHead, body: [UInt8]) {
        let connection = try LoopbackConnection(endpoint: endpoint, timeout: timeout)
        try connection.send(requestBytes(method: method, path: path, body: body, acceptsEvents: false))
        var received: [UInt8] = []
        let head = try readResponse(connection) { _, bytes, _ in received += bytes }
        return (head, received)
    }

    /// POSTs `body` and streams the answer: `onEvent` gets each server-sent event with the
    /// monotonic time it completed, as soon as it arrives. A status other than 200 throws
    /// `.http` with the server's error message; `onEvent` may throw to abort the stream.
    /// Returns the number of SSE comment lines (keep-alives) seen.
    @discardableResult
    public func stream(path: String, body: [UInt8],
                       onEvent: (SSEEvent, Double) throws(RequestFailure) -> Void) throws(RequestFailure) -> Int {
        let connection = try LoopbackConnection(endpoint: endpoint, timeout: timeout)
        try connection.send(requestBytes(method: "POST", path: path, body: body, acceptsEvents: true))
        var events = SSEParser()
        var errorBody: [UInt8] = []
        let head = try readResponse(connection) { (head, bytes, time) throws(RequestFailure) in
            guard head.status == 200 else {
                errorBody += bytes
                return
            }
            let completed: [SSEEvent]
            do throws(LoadTestError) { completed = try events.consume(bytes) } catch { throw RequestFailure(.protocolViolation, error.message) }
            for event in completed { try onEvent(event, time) }
        }
        guard head.status == 200 else {
            throw RequestFailure(.http, status: head.status, Self.errorMessage(errorBody))
        }
        return events.commentCount
    }

    /// Reads until the body is complete or the server closes, handing each piece of body (with
    /// the response head and the time it was read) to `body`. Returns the head.
    private func readResponse(
        _ connection: LoopbackConnection,
        body: (HTTPResponseHead, ArraySlice<UInt8>, Double) throws(RequestFailure) -> Void
    ) throws(RequestFailure) -> HTTPResponseHead {
        var parser = HTTPResponseParser()
        var total = 0
        while !parser.isComplete {
            let (bytes, time) = try connection.receive()
            do {
                if bytes.isEmpty {
                    try parser.finish()
                    break
                }
                total += bytes.count
                guard total <= Self.maxResponseBytes else {
                    throw RequestFailure(.protocolViolation, "the response is larger than \(Self.maxResponseBytes) bytes")
                }
                let payload = try parser.consume(bytes)
                if !payload.isEmpty, let head = parser.head { try body(head, payload[...], time) }
            } catch let error as LoadTestError {
                throw RequestFailure(.protocolViolation, error.message)
            } catch let error as RequestFailure {
                throw error
            } catch {
                throw RequestFailure(.protocolViolation, "\(error)")
            }
        }
        guard let head = parser.head else { throw RequestFailure(.protocolViolation, "the response has no head") }
        return head
    }

    func requestBytes(method: String, path: String, body: [UInt8]?, acceptsEvents: Bool) -> [UInt8] {
        var head = "\(method) \(endpoint.target(path)) HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\n"
            + "User-Agent: entropyinfer-loadtest\r\nConnection: close\r\n"
            + "Accept: \(acceptsEvents ? "text/event-stream" : "application/json")\r\n"
        if let apiKey { head += "Authorization: Bearer \(apiKey)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (body ?? [])
    }

    /// The `error.message` of an OpenAI error body, else the body's first 200 characters.
    static func errorMessage(_ body: [UInt8]) -> String {
        if let json = try? JSONValue.parse(body), let message = json["error"]?["message"]?.stringValue ?? json["error"]?.stringValue {
            return message
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "(empty body)" : text
    }
}
