import Engine
import Foundation
import JSON
import Server
import Testing
import Tokenization

/// A connection the test closes by hand.
final class ClosableConnection: ClientConnection, @unchecked Sendable {
    private let lock = NSLock()
    private var closed = false
    var isClosed: Bool { lock.withLock { closed } }
    func close() { lock.withLock { closed = true } }
}

@Suite("Streaming")
struct StreamingTests {
    /// The streaming invariants llama.cpp's tests pin down, for every choice.
    static func checkChatInvariants(_ events: [JSONValue], choiceCount: Int, includeUsage: Bool,
                                    sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        let first = events.first
        var texts = Array(repeating: "", count: choiceCount)
        var roleSeen = Array(repeating: false, count: choiceCount)
        var finished = Array(repeating: false, count: choiceCount)
        for (position, event) in events.enumerated() {
            #expect(event["id"] == first?["id"] && event["created"] == first?["created"] && event["model"] == first?["model"],
                    sourceLocation: sourceLocation)
            #expect(event["object"] == "chat.completion.chunk", sourceLocation: sourceLocation)
            if includeUsage {
                #expect(event.objectValue?.contains("usage") == true, sourceLocation: sourceLocation)
            }
            let choices = event["choices"]?.arrayValue ?? []
            if choices.isEmpty {
                if event["usage"] != nil && event["usage"] != .null {
                    #expect(includeUsage && position == events.count - 1, "usage chunk must be last", sourceLocation: sourceLocation)
                }
                continue
            }
            #expect(choices.count == 1, sourceLocation: sourceLocation)
            let choice = choices[0]
            let index = choice["index"]?.intValue ?? -1
            let delta = choice["delta"]
            #expect(!finished[index], "chunk after finish_reason", sourceLocation: sourceLocation)
            if !roleSeen[index] {
                #expect(delta == ["role": "assistant", "content": nil], "first chunk carries the role", sourceLocation: sourceLocation)
                roleSeen[index] = true
                continue
            }
            #expect(delta?["role"] == nil, "role repeated", sourceLocation: sourceLocation)
            if let reason = choice["finish_reason"], reason != .null {
                #expect(delta == [:], sourceLocation: sourceLocation)
                finished[index] = true
            } else {
                let content = delta?["content"]?.stringValue ?? ""
                #expect(!content.isEmpty, "empty content delta", sourceLocation: sourceLocation)
                texts[index] += content
            }
        }
        #expect(finished.allSatisfy { $0 }, "every choice finishes", sourceLocation: sourceLocation)
        return texts
    }

    @Test func chatStreamKeepsTheInvariantsAndMatchesTheNonStreamingText() throws {
        let harness = Harness()
        let plain = bodyJSON(harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "seed": 3}"#))
        let response = harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "seed": 3, "stream": true}"#)
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/event-stream")
        #expect(response.header("Cache-Control") == "no-cache")
        let (events, done, _) = sseEvents(drain(response))
        #expect(done)
        let texts = Self.checkChatInvariants(events, choiceCount: 1, includeUsage: false)
        #expect(texts == [plain["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue ?? "?"])
        #expect(events.last?["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        #expect(events.allSatisfy { $0.objectValue?.contains("usage") == false })
        #expect(events.count == 1 + 16 + 1)  // "Hello, world! #3": sampled with a seed
    }

    @Test func includeUsageAddsAFinalChunkWithEmptyChoices() throws {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: "ok", cachedTokens: 4) })
        let response = harness.post("/v1/chat/completions", """
            {"messages": [{"role": "user", "content": "Hi"}], "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 9}
            """)
        let (events, done, _) = sseEvents(drain(response))
        #expect(done)
        _ = Self.checkChatInvariants(events, choiceCount: 1, includeUsage: true)
        let last = try #require(events.last)
        #expect(last["choices"] == [])
        #expect(last["usage"] == ["prompt_tokens": 21, "completion_tokens": 2, "total_tokens": 23,
                                  "prompt_tokens_details": ["cached_tokens": 4]])
        #expect(events.dropLast().allSatisfy { $0["usage"] == .null })
    }

    @Test func severalChoicesStreamInterleavedEachWithItsOwnRoleAndFinish() throws {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: "abc", tokenDelay: 0.005) })
        let response = harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true, "n": 3, "seed": 1, "temperature": 0.5}"#)
        let (events, done, _) = sseEvents(drain(response))
        #expect(done)
        let texts = Self.checkChatInvariants(events, choiceCount: 3, includeUsage: false)
        #expect(texts == ["abc #1", "abc #2", "abc #3"])
    }

    @Test func logprobsStreamWithTheirChunk() throws {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: "xy") })
        let response = harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true, "logprobs": true, "top_logprobs": 1}"#)
        let (events, _, _) = sseEvents(drain(response))
        let contentChunks = events.filter { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue?.isEmpty == false }
        #expect(contentChunks.count == 2)
        let tokens = contentChunks.compactMap { $0["choices"]?.arrayValue?.first?["logprobs"]?["content"]?.arrayValue?.first?["token"]?.stringValue }
        #expect(tokens == ["x", "y"])
    }

    @Test func returnProgressSendsPromptProgressInLlamaCppShape() throws {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: "ok", prefillDelay: 0.03, progressSteps: 3, cachedTokens: 2) })
        let response = harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true, "return_progress": true}"#)
        #expect(harness.service.submitted.first?.returnProgress == true)
        let (events, done, _) = sseEvents(drain(response))
        #expect(done)
        let progress = events.compactMap { $0["prompt_progress"] }
        #expect(progress.count == 3)
        #expect(progress.first?.objectValue?.keys == ["total", "cache", "processed", "time_ms"])
        #expect(progress.map { $0["processed"]?.intValue ?? -1 } == [7, 14, 21])
        #expect(progress.allSatisfy { $0["total"] == 21 && $0["cache"] == 2 })
        // The first progress rides on the role chunk; later ones have no choices.
        #expect(events[0]["choices"]?.arrayValue?.first?["delta"]?["role"] == "assistant")
        #expect(events[1]["choices"] == [] && events[2]["choices"] == [])
        _ = Self.checkChatInvariants(events, choiceCount: 1, includeUsage: false)
    }

    @Test func silentStreamsGetKeepAliveComments() throws {
        var options = Harness.defaultOptions
        options.keepAliveSeconds = 0.05
        let harness = Harness(options: options, service: FakeGenerationService { _ in FakeScript(reply: "ok", prefillDelay: 0.4) })
        let body = drain(harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true}"#))
        let (events, done, comments) = sseEvents(body)
        #expect(done)
        #expect(comments >= 4)
        #expect(body.hasPrefix(": keep-alive\n\n"))
        _ = Self.checkChatInvariants(events, choiceCount: 1, includeUsage: false)
    }

    @Test func aClientThatGoesAwayCancelsTheGeneration() throws {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: String(repeating: "z", count: 200), tokenDelay: 0.01) })
        let connection = ClosableConnection()
        var request = HTTPRequest(method: "POST", path: "/v1/chat/completions",
                                  json: #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true, "n": 2}"#)
        request.connection = connection
        let response = harness.server.handle(request)
        guard case .stream(let stream) = response.body else { Issue.record("not a stream"); return }
        _ = stream.nextChunk()
        _ = stream.nextChunk()
        connection.close()
        var chunks = 0
        while stream.nextChunk() != nil { chunks += 1 }
        #expect(chunks < 20)
        stream.close(completed: false)
        #expect(Set(harness.service.cancelled) == Set(harness.service.submitted.map(\.id)))
        #expect(harness.service.cancelled.count == 2)
        #expect(harness.logs.lines.last?.contains("client disconnected") == true)
    }

    @Test func transportClosingAStreamEarlyCancelsIt() {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: String(repeating: "z", count: 200), tokenDelay: 0.01) })
        let response = harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true}"#)
        guard case .stream(let stream) = response.body else { Issue.record("not a stream"); return }
        _ = stream.nextChunk()
        stream.close(completed: false)
        #expect(harness.service.cancelled == harness.service.submitted.map(\.id))
    }

    @Test func anEngineFailureMidStreamBecomesAnErrorEventWithoutDone() throws {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: "abcdef", failAfterCharacters: 3) })
        let body = drain(harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true}"#))
        let (events, done, _) = sseEvents(body)
        #expect(!done)
        let error = try #require(events.last?["error"])
        #expect(error["code"] == "internal_error")
        #expect(error["type"] == "server_error")
    }

    @Test func completionsStreamEchoesThePromptFirstAndEndsWithFinishReason() throws {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: "de") })
        let body = drain(harness.post("/v1/completions", #"{"prompt": "abc", "stream": true, "echo": true, "logprobs": 1, "stream_options": {"include_usage": true}}"#))
        let (events, done, _) = sseEvents(body)
        #expect(done)
        let texts = events.compactMap { $0["choices"]?.arrayValue?.first?["text"]?.stringValue }
        #expect(texts == ["abc", "d", "e", ""])
        #expect(events.allSatisfy { $0["object"] == "text_completion" })
        let echo = try #require(events.first?["choices"]?.arrayValue?.first?["logprobs"])
        #expect(echo["tokens"] == ["a", "b", "c"])
        #expect(echo["token_logprobs"] == [nil, -1.0, -2.0])
        #expect(echo["text_offset"] == [0, 1, 2])
        let second = try #require(events[1]["choices"]?.arrayValue?.first?["logprobs"])
        #expect(second["text_offset"] == [3])
        #expect(events[3]["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        #expect(events.last?["usage"]?["prompt_tokens"] == 3)
        #expect(events.last?["usage"]?["completion_tokens"] == 2)
    }
}

@Suite("Non-streaming cancellation")
struct NonStreamingCancellationTests {
    @Test func aClientThatGoesAwayWhileWaitingCancelsAndIsLoggedAs499() throws {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: String(repeating: "q", count: 500), tokenDelay: 0.005) })
        let connection = ClosableConnection()
        var request = HTTPRequest(method: "POST", path: "/v1/chat/completions", json: #"{"messages": [{"role": "user", "content": "Hi"}]}"#)
        request.connection = connection
        let closer = Thread { usleep(100_000); connection.close() }
        closer.start()
        let started = MonotonicClock.now()
        let response = harness.server.handle(request)
        #expect(MonotonicClock.now() - started < 1.5)
        expectError(response, status: 499, code: "client_closed_request")
        #expect(harness.service.cancelled == harness.service.submitted.map(\.id))
        #expect(harness.logs.lines.last?.contains("POST /v1/chat/completions 499") == true)
    }
}

@Suite("Engine-side cancellation")
struct EngineCancellationTests {
    /// A handle the test cancels behind the server's back, as an engine shutting down would.
    final class CancellingService: GenerationService, @unchecked Sendable {
        let inner = FakeGenerationService { _ in FakeScript(reply: String(repeating: "c", count: 300), tokenDelay: 0.005) }
        var model: ModelDescription { inner.model }
        var tokenizer: any Tokenizer { inner.tokenizer }
        var chatTemplate: ChatTemplate? { nil }
        var isReady: Bool { true }
        func submit(_ request: GenerationRequest) throws(EngineError) -> GenerationHandle {
            let handle = try inner.submit(request)
            Thread { usleep(50_000); handle.cancel() }.start()
            return handle
        }
        func metrics() -> EngineMetrics { inner.metrics() }
        func sessions() -> [SessionSnapshot] { [] }
    }

    @Test func streamsCancelledByTheEngineEndWithAShuttingDownError() {
        let service = CancellingService()
        let server = APIServer(slot: ServiceSlot(service), options: Harness.defaultOptions, logger: LogCapture().logger(),
                               renderer: SimpleChatRenderer())
        let body = drain(server.handle(HTTPRequest(method: "POST", path: "/v1/chat/completions",
                                                   json: #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true}"#)))
        let (events, done, _) = sseEvents(body)
        #expect(!done)
        #expect(events.last?["error"]?["code"] == "shutting_down")
        let plain = server.handle(HTTPRequest(method: "POST", path: "/v1/chat/completions",
                                              json: #"{"messages": [{"role": "user", "content": "Hi"}]}"#))
        expectError(plain, status: 503, code: "shutting_down")
    }
}
