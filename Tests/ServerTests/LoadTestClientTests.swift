import Foundation
import LoadGeneration
import Testing

/// The load-test client against a scripted loopback server that writes exactly the bytes and
/// pauses a test chooses: arrival timestamps, split framing, error statuses, cut-off streams
/// and silent servers.
@Suite("LoadTest client")
struct LoadTestClientTests {
    static func chunk(_ text: String) -> String { String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n" }

    static let streamHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"

    @Test func streamTimestampsFollowTheServersPauses() throws {
        let gap = 0.06
        let role = Self.chunk(#"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}"# + "\n\n")
        let token = { (text: String) in Self.chunk(#"data: {"choices":[{"index":0,"delta":{"content":"\#(text)"}}]}"# + "\n\n") }
        let usage = Self.chunk(#"data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":0}}}"# + "\n\n")
        // A keep-alive during "prefill", a token whose chunk is split in three writes, and the end.
        let first = token("a")
        let script: [ScriptedServer.Step] = [
            .write(Self.streamHead), .pause(gap), .write(Self.chunk(": keep-alive\n\n")), .pause(gap),
            .write(role + String(first.prefix(10))), .pause(0.01), .write(String(first.dropFirst(10).prefix(20))), .pause(0.01),
            .write(String(first.dropFirst(30))),
            .pause(gap), .write(token("b")), .pause(gap), .write(token("c") + usage), .write(Self.chunk("data: [DONE]\n\n") + "0\r\n\r\n"),
        ]
        let server = try ScriptedServer(script)
        let client = LoopbackHTTPClient(endpoint: try LoopbackEndpoint(url: "http://127.0.0.1:\(server.port)"), timeout: 5)
        let request = StreamedChatCompletion(model: "m", messages: [.init(role: "user", content: "hi")], maxTokens: 3, keepsContent: true)
        let measurement = request.run(on: client)
        #expect(measurement.failure == nil, "\(String(describing: measurement.failure))")
        #expect(measurement.content == "abc")
        #expect(measurement.contentTimes.count == 3)
        #expect(measurement.completionTokens == 3 && measurement.promptTokens == 9 && measurement.cachedTokens == 0)
        #expect(measurement.keepAliveCount == 1)
        // The first token arrives after two pauses and the split writes; each next after one pause.
        let ttft = try #require(measurement.timeToFirstToken)
        #expect(ttft >= 2 * gap + 0.02 && ttft < 2 * gap + 1, "TTFT \(ttft)")
        for gap in measurement.interTokenGaps { #expect(gap >= 0.05 && gap < 1, "gap \(gap)") }
        #expect(measurement.endTime >= measurement.contentTimes[2])
        // The request the server saw: a streamed, greedy, ignore_eos chat completion with usage.
        let received = server.receivedRequest()
        #expect(received.hasPrefix("POST /v1/chat/completions HTTP/1.1\r\n"))
        for field in [#""stream":true"#, #""include_usage":true"#, #""max_tokens":3"#, #""temperature":0"#, #""ignore_eos":true"#, #""model":"m""#] {
            #expect(received.contains(field), "\(field)")
        }
    }

    @Test func errorStatusIsCountedWithTheServersMessage() throws {
        let body = #"{"error":{"message":"the queue is full","type":"server_error"}}"#
        let server = try ScriptedServer([.write("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)])
        let client = LoopbackHTTPClient(endpoint: try LoopbackEndpoint(url: "http://127.0.0.1:\(server.port)"), timeout: 5)
        let measurement = StreamedChatCompletion(model: nil, messages: [.init(role: "user", content: "hi")], maxTokens: 3).run(on: client)
        #expect(measurement.failure == RequestFailure(.http, status: 503, "the queue is full"))
        #expect(measurement.failure?.key == "HTTP 503")
    }

    @Test func streamCutShortIsAProtocolFailure() throws {
        let token = Self.chunk(#"data: {"choices":[{"index":0,"delta":{"content":"a"}}]}"# + "\n\n")
        let server = try ScriptedServer([.write(Self.streamHead + token)])  // then closes: no [DONE], no last chunk
        let client = LoopbackHTTPClient(endpoint: try LoopbackEndpoint(url: "http://127.0.0.1:\(server.port)"), timeout: 5)
        let measurement = StreamedChatCompletion(model: nil, messages: [.init(role: "user", content: "hi")], maxTokens: 3).run(on: client)
        #expect(measurement.failure?.kind == .protocolViolation)
        #expect(measurement.contentTimes.count == 1)
    }

    @Test func silentServerTimesOut() throws {
        let server = try ScriptedServer([.write(Self.streamHead), .pause(2)])
        let client = LoopbackHTTPClient(endpoint: try LoopbackEndpoint(url: "http://127.0.0.1:\(server.port)"), timeout: 0.3)
        let started = MonotonicTime.now()
        let measurement = StreamedChatCompletion(model: nil, messages: [.init(role: "user", content: "hi")], maxTokens: 3).run(on: client)
        #expect(measurement.failure?.kind == .timeout)
        #expect(MonotonicTime.now() - started < 1.5)
    }

    @Test func refusedConnectionIsAConnectionFailure() throws {
        let port = try ScriptedServer.unusedPort()
        let client = LoopbackHTTPClient(endpoint: try LoopbackEndpoint(url: "http://127.0.0.1:\(port)"), timeout: 2)
        let measurement = StreamedChatCompletion(model: nil, messages: [.init(role: "user", content: "hi")], maxTokens: 3).run(on: client)
        #expect(measurement.failure?.kind == .connection)
    }
}

/// A one-connection TCP server on 127.0.0.1 that reads a request (head and Content-Length
/// body), then writes and pauses as scripted, then closes.
final class ScriptedServer: @unchecked Sendable {
    enum Step: Sendable {
        case write(String)
        case pause(Double)
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var request = ""
    private let done = DispatchSemaphore(value: 0)

    init(_ script: [Step]) throws {
        (listener, port) = try Self.listen()
        let listener = self.listener
        Thread { [self] in
            defer { done.signal() }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let text = Self.readRequest(connection)
            lock.withLock { request = text }
            for step in script {
                switch step {
                case .write(let text):
                    _ = Array(text.utf8).withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                case .pause(let seconds):
                    Thread.sleep(forTimeInterval: seconds)
                }
            }
        }.start()
    }

    deinit { close(listener) }

    /// The request as received (waits until the script ran).
    func receivedRequest() -> String {
        _ = done.wait(timeout: .now() + 10)
        return lock.withLock { request }
    }

    private static func readRequest(_ connection: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<1000 {
            let count = recv(connection, &buffer, buffer.count, 0)
            if count <= 0 { break }
            bytes += buffer[0..<count]
            let text = String(decoding: bytes, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { continue }
            let length = text[..<end.lowerBound].split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            if text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound) + length <= bytes.count { return text }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func listen() throws -> (Int32, Int) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        guard bound == 0, Glibc.listen(listener, 4) == 0 else { throw LoadTestError("cannot listen on 127.0.0.1") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        return (listener, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A port nothing listens on (bound, then released).
    static func unusedPort() throws -> Int {
        let (listener, port) = try listen()
        close(listener)
        return port
    }
}
