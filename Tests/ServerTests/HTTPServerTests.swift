import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPServer
import JSON
import Server
import Testing

/// The libmicrohttpd transport with real sockets on 127.0.0.1 and the fake engine.
@Suite("HTTP server over sockets", .serialized)
struct HTTPServerTests {
    static let chat = #"{"messages": [{"role": "user", "content": "Hi"}]}"#
    static let streamingChat = #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true}"#

    @Test func servesJSONOnAFreeLoopbackPort() async throws {
        let live = try LiveServer()
        #expect(live.port > 0)
        var reply = try await live.send(live.request("GET", "/health"))
        #expect(reply.status == 200)
        #expect(try JSONValue.parse(Array(reply.body)) == ["status": "ok"])
        reply = try await live.send(live.request("POST", "/v1/chat/completions", body: Self.chat))
        #expect(reply.status == 200)
        let body = try JSONValue.parse(Array(reply.body))
        #expect(body["choices"]?.arrayValue?.first?["message"]?["content"] == "Hello, world!")
        #expect(live.harness.logs.lines.contains { $0.contains("POST /v1/chat/completions 200 prompt_tokens=21 completion_tokens=13") })
    }

    @Test func streamsChunksAsTokensArrive() throws {
        let live = try LiveServer(service: FakeGenerationService { _ in FakeScript(reply: "abcdefghij", tokenDelay: 0.05) })
        let collector = StreamCollector(live.request("POST", "/v1/chat/completions", body: Self.streamingChat))
        #expect(collector.wait())
        #expect(collector.status == 200)
        let (events, done, _) = sseEvents(collector.text)
        #expect(done)
        #expect(StreamingTests.checkChatInvariants(events, choiceCount: 1, includeUsage: false) == ["abcdefghij"])

        // Arrival times straight from the socket (URLSession may batch its callbacks under load).
        let connection = try RawConnection(port: live.port)
        let body = Self.streamingChat
        connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        var arrivals: [Double] = []
        var text = ""
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !text.contains("[DONE]") {
            let count = recv(connection.socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            text += String(decoding: buffer[0..<count], as: UTF8.self)
            if text.contains("\"content\":\"") { arrivals.append(MonotonicClock.now()) }
        }
        #expect(text.contains("data: [DONE]"))
        #expect(arrivals.count >= 6, "content arrived in \(arrivals.count) reads")
        #expect((arrivals.last ?? 0) - (arrivals.first ?? 0) >= 0.3)
    }

    @Test func streamHeadersGoOutBeforeTheFirstToken() throws {
        let live = try LiveServer(service: FakeGenerationService { _ in FakeScript(reply: "ok", prefillDelay: 1.5) })
        let connection = try RawConnection(port: live.port)
        let body = Self.streamingChat
        connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let early = connection.read(timeout: 0.7, until: "\r\n\r\n")
        #expect(early.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(early.text.contains("Content-Type: text/event-stream\r\n"))
        #expect(early.text.contains("Transfer-Encoding: chunked\r\n"))
        #expect(!early.text.contains("data:"))
        let rest = connection.read(timeout: 5, until: "[DONE]")
        #expect(rest.text.contains("data: [DONE]"))
    }

    @Test func aClientDisconnectingMidStreamCancelsItsGeneration() throws {
        let live = try LiveServer(service: FakeGenerationService { _ in FakeScript(reply: String(repeating: "w", count: 1000), tokenDelay: 0.01) })
        let collector = StreamCollector(live.request("POST", "/v1/chat/completions", body: Self.streamingChat))
        #expect(collector.waitFor { $0.contains("\"content\":\"w\"") })
        collector.cancel()
        let deadline = MonotonicClock.now() + 3
        while live.harness.service.cancelled.isEmpty && MonotonicClock.now() < deadline { usleep(10_000) }
        #expect(live.harness.service.cancelled == live.harness.service.submitted.map(\.id))
        while live.http.activeRequestCount > 0 && MonotonicClock.now() < deadline { usleep(10_000) }
        #expect(live.http.activeRequestCount == 0)
        #expect(live.harness.logs.lines.last?.contains("client disconnected") == true)
    }

    @Test func aClientDisconnectingBeforeTheFirstTokenCancelsToo() throws {
        let live = try LiveServer(service: FakeGenerationService { _ in FakeScript(reply: "late", prefillDelay: 5) })
        let connection = try RawConnection(port: live.port)
        let body = Self.chat
        connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let deadline = MonotonicClock.now() + 3
        while live.harness.service.submitted.isEmpty && MonotonicClock.now() < deadline { usleep(5_000) }
        shutdown(connection.socket, Int32(SHUT_RDWR))
        while live.harness.service.cancelled.isEmpty && MonotonicClock.now() < deadline { usleep(10_000) }
        #expect(live.harness.service.cancelled.count == 1, "a waiting non-streaming request notices the disconnect")
    }

    @Test func bodiesOverTheLimitGet413() async throws {
        let live = try LiveServer()
        let big = #"{"messages": [{"role": "user", "content": ""# + String(repeating: "x", count: 70_000) + #""}]}"#
        let reply = try await live.send(live.request("POST", "/v1/chat/completions", body: big))
        #expect(reply.status == 413)
        let error = try JSONValue.parse(Array(reply.body))["error"]
        #expect(error?["code"] == "request_too_large")
        #expect(error?["type"] == "invalid_request_error")
        #expect(live.harness.service.submitted.isEmpty)
    }

    @Test func chunkedBodiesOverTheLimitGet413Too() throws {
        let live = try LiveServer()
        let connection = try RawConnection(port: live.port)
        connection.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let piece = String(repeating: "y", count: 16 * 1024)
        for _ in 0..<5 { connection.send(String(piece.utf8.count, radix: 16) + "\r\n" + piece + "\r\n") }
        connection.send("0\r\n\r\n")
        let reply = connection.read(timeout: 5, until: "}}")
        #expect(reply.text.hasPrefix("HTTP/1.1 413"))
        #expect(reply.text.contains("\"code\":\"request_too_large\""))
    }

    @Test func wrongMethodsUnknownRoutesAndMissingKeys() async throws {
        var options = Harness.defaultOptions
        options.apiKeys = ["sk-live"]
        let live = try LiveServer(options: options)
        var reply = try await live.send(live.request("GET", "/v1/chat/completions"))
        #expect(reply.status == 405)
        #expect(reply.headers["Allow"] as? String == "POST")
        reply = try await live.send(live.request("GET", "/v1/unknown"))
        #expect(reply.status == 404)
        #expect(try JSONValue.parse(Array(reply.body))["error"]?["code"] == "unknown_url")
        reply = try await live.send(live.request("POST", "/v1/chat/completions", body: Self.chat))
        #expect(reply.status == 401)
        #expect(try JSONValue.parse(Array(reply.body))["error"]?["code"] == "invalid_api_key")
        reply = try await live.send(live.request("POST", "/v1/chat/completions", body: Self.chat, headers: ["Authorization": "Bearer sk-live"]))
        #expect(reply.status == 200)
        reply = try await live.send(live.request("GET", "/health"))
        #expect(reply.status == 200)
    }

    @Test func aFullQueueAnswers503WithRetryAfter() async throws {
        // The first request holds the only queue place for 16 × 0.3 s, so the second arrives while it
        // streams even on a loaded machine (with 4 tokens a busy CI once saw the first finish first).
        let live = try LiveServer(service: FakeGenerationService(queueCapacity: 1) { _ in
            FakeScript(reply: String(repeating: "slow", count: 4), tokenDelay: 0.3)
        })
        let first = StreamCollector(live.request("POST", "/v1/chat/completions", body: Self.streamingChat))
        #expect(first.waitFor { $0.contains("assistant") })
        let reply = try await live.send(live.request("POST", "/v1/chat/completions", body: Self.chat))
        #expect(reply.status == 503)
        #expect(reply.headers["Retry-After"] as? String == "1")
        #expect(try JSONValue.parse(Array(reply.body))["error"]?["code"] == "server_overloaded")
        #expect(first.wait())
    }

    @Test func keepAliveCommentsFlowDuringASlowPrefill() throws {
        var options = Harness.defaultOptions
        options.keepAliveSeconds = 0.1
        let live = try LiveServer(options: options, service: FakeGenerationService { _ in FakeScript(reply: "ok", prefillDelay: 0.6) })
        let collector = StreamCollector(live.request("POST", "/v1/chat/completions", body: Self.streamingChat))
        #expect(collector.wait())
        let text = collector.text
        let beforeFirstEvent = text.components(separatedBy: "data:").first ?? ""
        #expect(beforeFirstEvent.components(separatedBy: ": keep-alive\n\n").count - 1 >= 3)
        #expect(sseEvents(text).done)
    }

    @Test func concurrentRequestsAllSucceed() async throws {
        let live = try LiveServer(service: FakeGenerationService { request in
            FakeScript(reply: "answer-\(request.prompt.count)", tokenDelay: 0.005)
        })
        let results = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for index in 0..<12 {
                let body = #"{"messages": [{"role": "user", "content": "\#(String(repeating: "a", count: index))"}]}"#
                let request = live.request("POST", "/v1/chat/completions", body: body)
                group.addTask {
                    let reply = try await live.send(request)
                    let content = try JSONValue.parse(Array(reply.body))["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
                    return (reply.status, content ?? "")
                }
            }
            var all: [(Int, String)] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 12)
        #expect(results.allSatisfy { $0.0 == 200 })
        #expect(Set(results.map(\.1)) == Set((0..<12).map { "answer-\(19 + $0)" }))
        let streams = (0..<4).map { _ in StreamCollector(live.request("POST", "/v1/chat/completions", body: Self.streamingChat)) }
        for stream in streams {
            #expect(stream.wait())
            #expect(sseEvents(stream.text).done)
        }
    }

    @Test func idleConnectionsTimeOut() throws {
        var transport = LiveServer.transportOptions
        transport.connectionTimeoutSeconds = 1
        let live = try LiveServer(transport: transport)
        let connection = try RawConnection(port: live.port)
        let started = MonotonicClock.now()
        let reply = connection.read(timeout: 4)
        #expect(reply.closed)
        #expect(MonotonicClock.now() - started < 3.5)
    }

    @Test func aLongRequestOutlivesTheConnectionTimeout() throws {
        var transport = LiveServer.transportOptions
        transport.connectionTimeoutSeconds = 1
        var options = Harness.defaultOptions
        options.keepAliveSeconds = 0.5
        let live = try LiveServer(options: options, service: FakeGenerationService { _ in FakeScript(reply: "done", prefillDelay: 2.2) },
                                  transport: transport)
        let collector = StreamCollector(live.request("POST", "/v1/chat/completions", body: Self.streamingChat))
        #expect(collector.wait())
        let (events, done, _) = sseEvents(collector.text)
        #expect(done)
        #expect(StreamingTests.checkChatInvariants(events, choiceCount: 1, includeUsage: false) == ["done"])
        // A non-streaming request too: its thread is in the handler, where no timeout applies.
        let connection = try RawConnection(port: live.port)
        let body = Self.chat
        connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let reply = connection.read(timeout: 5, until: "}}")
        #expect(reply.text.hasPrefix("HTTP/1.1 200"))
    }

    @Test func connectionsAreBounded() throws {
        var transport = LiveServer.transportOptions
        transport.connectionLimit = 2
        let live = try LiveServer(transport: transport)
        let first = try RawConnection(port: live.port)
        let second = try RawConnection(port: live.port)
        first.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        second.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(first.read(timeout: 2, until: "ok").text.contains("200"))
        #expect(second.read(timeout: 2, until: "ok").text.contains("200"))
        let third = try RawConnection(port: live.port)
        third.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        let reply = third.read(timeout: 2)
        #expect(!reply.text.contains("200"))
        #expect(reply.closed)
    }

    @Test func gracefulStopLetsRunningStreamsFinishAndRefusesNewConnections() throws {
        let live = try LiveServer(service: FakeGenerationService { _ in FakeScript(reply: "0123456789", tokenDelay: 0.05) })
        let collector = StreamCollector(live.request("POST", "/v1/chat/completions", body: Self.streamingChat))
        #expect(collector.waitFor { $0.contains("\"content\":\"0\"") })
        let port = live.port
        let stopper = Thread { live.http.stop(gracePeriod: 10) }
        stopper.start()
        #expect(collector.wait())
        #expect(sseEvents(collector.text).done)
        #expect(live.harness.service.cancelled.isEmpty)
        usleep(200_000)
        #expect(throws: HTTPServerError.self) { try RawConnection(port: port) }
    }

    @Test func stopCancelsWhatOutlivesTheGracePeriod() throws {
        let live = try LiveServer(service: FakeGenerationService { _ in FakeScript(reply: String(repeating: "s", count: 500), tokenDelay: 0.02) })
        let collector = StreamCollector(live.request("POST", "/v1/chat/completions", body: Self.streamingChat))
        #expect(collector.waitFor { $0.contains("\"content\":\"s\"") })
        let started = MonotonicClock.now()
        live.http.stop(gracePeriod: 0.2)
        #expect(MonotonicClock.now() - started < 3)
        #expect(collector.wait(timeout: 5))
        let (events, done, _) = sseEvents(collector.text)
        #expect(!done)
        #expect(events.last?["error"]?["code"] == "shutting_down")
        #expect(live.harness.service.cancelled.count == 1)
    }

    @Test func healthProbeReadsTheStatus() throws {
        let live = try LiveServer()
        #expect(try HTTPProbe.get("\(live.base)/health").status == 200)
        #expect(try HTTPProbe.get("\(live.base)/nothing").status == 404)
        live.harness.service.isReady = false
        #expect(try HTTPProbe.get("\(live.base)/health").status == 503)
        #expect(throws: HTTPServerError.self) { try HTTPProbe.get("http://127.0.0.1:1/health", timeout: 1) }
        #expect(throws: HTTPServerError.self) { try HTTPProbe.get("https://example.com/health") }
    }
}

@Suite("HTTP server limits", .serialized)
struct HTTPServerLimitTests {
    @Test func endlessUploadsAreCutOff() throws {
        let live = try LiveServer()
        let connection = try RawConnection(port: live.port)
        connection.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let piece = String(repeating: "z", count: 1024 * 1024)
        let chunk = Array((String(piece.utf8.count, radix: 16) + "\r\n" + piece + "\r\n").utf8)
        // Oversized bodies are read and discarded up to 64 MiB (so the client can read its 413),
        // then the connection is dropped.
        for _ in 0..<70 { connection.send(chunk) }
        let reply = connection.read(timeout: 5)
        #expect(reply.closed)
        // libmicrohttpd's own message reaches our log.
        #expect(live.harness.logs.lines.contains { $0.contains(" warning libmicrohttpd: ") })
        #expect(!reply.text.contains("200 OK"))
        #expect(live.harness.service.submitted.isEmpty)
    }

    @Test func oversizedBodiesWithContentLengthAreReadBeforeThe413() throws {
        let live = try LiveServer()
        let connection = try RawConnection(port: live.port)
        let body = String(repeating: "b", count: 200 * 1024)
        connection.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        connection.send(body)
        let reply = connection.read(timeout: 5, until: "}}")
        #expect(reply.text.hasPrefix("HTTP/1.1 413"))
    }

    @Test func expectContinueGets413BeforeTheBody() throws {
        let live = try LiveServer()
        let connection = try RawConnection(port: live.port)
        connection.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\nExpect: 100-continue\r\n\r\n")
        let reply = connection.read(timeout: 5, until: "}}")
        #expect(reply.text.hasPrefix("HTTP/1.1 413"))
        #expect(!reply.text.contains("100 Continue"))
    }
}

@Suite("Termination signals", .serialized)
struct TerminationSignalsTests {
    @Test func sigtermAndSigintWakeTheWaiterAndStopsCanBeRequested() {
        TerminationSignals.install()
        defer { TerminationSignals.restoreDefaults() }
        Thread { usleep(50_000); kill(getpid(), SIGTERM) }.start()
        #expect(TerminationSignals.wait() == .signal(SIGTERM))
        Thread { usleep(20_000); kill(getpid(), SIGINT) }.start()
        #expect(TerminationSignals.wait() == .signal(SIGINT))
        Thread { usleep(20_000); TerminationSignals.requestStop(exitCode: 3) }.start()
        #expect(TerminationSignals.wait() == .requested(exitCode: 3))
    }
}

@Suite("Listening addresses", .serialized)
struct ListeningAddressTests {
    static var hasIPv6Loopback: Bool {
        let probe = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        } == 0
    }

    @Test(.enabled(if: ListeningAddressTests.hasIPv6Loopback)) func listensOnIPv6() throws {
        let harness = Harness()
        var options = HTTPServerOptions()
        options.host = "::1"
        options.port = 0
        let server = HTTPServer(options: options, handler: harness.server)
        try server.start()
        defer { server.stop(gracePeriod: 0) }
        #expect(try HTTPProbe.get("http://[::1]:\(server.port)/health").status == 200)
        #expect(throws: HTTPServerError.self) { try RawConnection(port: server.port) }  // not on 127.0.0.1
    }

    @Test func aPortInUseIsAClearError() throws {
        let first = try LiveServer()
        var options = HTTPServerOptions()
        options.port = first.port
        let second = HTTPServer(options: options, handler: first.harness.server)
        #expect(throws: HTTPServerError.self) { try second.start() }
    }

    @Test func anUnresolvableHostIsAClearError() {
        var options = HTTPServerOptions()
        options.host = "no-such-host.invalid"
        let server = HTTPServer(options: options, handler: Harness().server)
        #expect(throws: HTTPServerError.self) { try server.start() }
    }
}
