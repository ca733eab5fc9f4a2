import Engine
import Foundation
import JSON
import Server
import Testing

/// An `APIServer` over the fake engine, driven without sockets.
struct Harness {
    let service: FakeGenerationService
    let renderer = SimpleChatRenderer()
    let logs = LogCapture()
    let server: APIServer
    let slot: ServiceSlot

    init(options: ServerOptions = Harness.defaultOptions, service: FakeGenerationService = FakeGenerationService(),
         installService: Bool = true) {
        self.service = service
        slot = ServiceSlot(installService ? service : nil)
        server = APIServer(slot: slot, options: options, logger: logs.logger(), renderer: renderer)
    }

    static var defaultOptions: ServerOptions {
        var options = ServerOptions()
        options.pollInterval = 0.02
        options.keepAliveSeconds = 5
        return options
    }

    func post(_ path: String, _ json: String, headers: [(String, String)] = []) -> HTTPResponse {
        server.handle(HTTPRequest(method: "POST", path: path, json: json, headers: headers))
    }

    func get(_ path: String, headers: [(String, String)] = []) -> HTTPResponse {
        server.handle(HTTPRequest(method: "GET", path: path, headers: HTTPHeaders(headers)))
    }
}

/// The body of a response as JSON (fails the test when it is not).
func bodyJSON(_ response: HTTPResponse, sourceLocation: SourceLocation = #_sourceLocation) -> JSONValue {
    guard let bytes = response.bodyBytes else {
        Issue.record("expected a complete body, got a stream", sourceLocation: sourceLocation)
        return .null
    }
    do {
        return try JSONValue.parse(bytes)
    } catch {
        Issue.record("body is not JSON: \(error): \(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
        return .null
    }
}

/// Reads a streamed response to its end, as the transport would.
func drain(_ response: HTTPResponse) -> String {
    guard case .stream(let stream) = response.body else { return String(decoding: response.bodyBytes ?? [], as: UTF8.self) }
    var bytes: [UInt8] = []
    while let chunk = stream.nextChunk() {
        #expect(!chunk.isEmpty)
        bytes += chunk
    }
    stream.close(completed: true)
    return String(decoding: bytes, as: UTF8.self)
}

/// The JSON events of an SSE body (without `[DONE]`), and whether it ended with `[DONE]`.
func sseEvents(_ body: String, sourceLocation: SourceLocation = #_sourceLocation) -> (events: [JSONValue], done: Bool, comments: Int) {
    let parsed = SSE.dataPayloads(body)
    #expect(parsed.wellFormed, "malformed SSE: \(body)", sourceLocation: sourceLocation)
    var events: [JSONValue] = []
    var done = false
    for (index, payload) in parsed.payloads.enumerated() {
        if payload == "[DONE]" {
            #expect(index == parsed.payloads.count - 1, "[DONE] is not last", sourceLocation: sourceLocation)
            done = true
            continue
        }
        do {
            events.append(try JSONValue.parse(payload))
        } catch {
            Issue.record("event is not JSON: \(payload)", sourceLocation: sourceLocation)
        }
    }
    return (events, done, parsed.comments)
}

/// Checks status, the OpenAI envelope and the code of an error response.
func expectError(_ response: HTTPResponse, status: Int, code: String, param: String?? = .none,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == status, "status", sourceLocation: sourceLocation)
    #expect(response.header("Content-Type") == "application/json", sourceLocation: sourceLocation)
    let body = bodyJSON(response, sourceLocation: sourceLocation)
    guard case .object(let root) = body, root.keys == ["error"], case .object(let error)? = root["error"] else {
        Issue.record("not an error envelope: \(body.jsonText)", sourceLocation: sourceLocation)
        return
    }
    #expect(Array(error.keys.prefix(4)) == ["message", "type", "param", "code"], sourceLocation: sourceLocation)
    #expect((error["message"]?.stringValue?.isEmpty ?? true) == false, sourceLocation: sourceLocation)
    #expect(error["type"]?.stringValue == (status >= 500 ? (status == 503 ? error["type"]?.stringValue : "server_error") : "invalid_request_error"),
            sourceLocation: sourceLocation)
    #expect(error["code"] == .string(code), "code in \(body.jsonText)", sourceLocation: sourceLocation)
    if case .some(let expected) = param {
        #expect(error["param"] == JSONValue(expected), "param in \(body.jsonText)", sourceLocation: sourceLocation)
    }
}
