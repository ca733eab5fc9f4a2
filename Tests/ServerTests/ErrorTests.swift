import Engine
import JSON
import Server
import Testing

/// Every error of issue 4 §4: status, OpenAI envelope, code (and param where there is one).
@Suite("Errors")
struct ErrorTests {
    static let chat = "/v1/chat/completions"
    static func chatBody(_ extra: String) -> String { #"{"messages": [{"role": "user", "content": "Hi"}]\#(extra)}"# }

    @Test func invalidJSONNamesThePosition() throws {
        let harness = Harness()
        let response = harness.post(Self.chat, #"{"messages": [}"#)
        expectError(response, status: 400, code: "invalid_json", param: .some(nil))
        let message = bodyJSON(response)["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("line 1, column 15"))
        expectError(harness.post(Self.chat, ""), status: 400, code: "invalid_json")
        expectError(harness.post(Self.chat, "[1, 2]"), status: 400, code: "invalid_json")
        expectError(harness.post("/v1/completions", "\"text\""), status: 400, code: "invalid_json")
        expectError(harness.post("/tokenize", "{"), status: 400, code: "invalid_json")
        #expect(harness.service.submitted.isEmpty)
    }

    @Test func wrongTypesNameTheParameter() {
        let harness = Harness()
        let cases: [(String, String)] = [
            (#"{"messages": "hello"}"#, "messages"),
            (#"{"messages": ["hello"]}"#, "messages[0]"),
            (#"{"messages": [{"role": 1, "content": "x"}]}"#, "messages[0].role"),
            (#"{"messages": [{"role": "user", "content": 5}]}"#, "messages[0].content"),
            (#"{"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]}"#, "messages[0].content[0].text"),
            (#"{"messages": [{"role": "user", "content": ["x"]}]}"#, "messages[0].content[0]"),
            (Self.chatBody(#", "max_tokens": "10""#), "max_tokens"),
            (Self.chatBody(#", "max_tokens": 1.5"#), "max_tokens"),
            (Self.chatBody(#", "temperature": "hot""#), "temperature"),
            (Self.chatBody(#", "stream": "yes""#), "stream"),
            (Self.chatBody(#", "stop": 5"#), "stop"),
            (Self.chatBody(#", "stop": ["a", 1]"#), "stop[1]"),
            (Self.chatBody(#", "n": true"#), "n"),
            (Self.chatBody(#", "seed": "1""#), "seed"),
            (Self.chatBody(#", "logit_bias": [1]"#), "logit_bias"),
            (Self.chatBody(#", "logit_bias": {"5": "x"}"#), "logit_bias.5"),
            (Self.chatBody(#", "stream_options": {"include_usage": 1}"#), "stream_options.include_usage"),
            (Self.chatBody(#", "logprobs": 1"#), "logprobs"),
            (Self.chatBody(#", "model": 7"#), "model"),
            (Self.chatBody(#", "response_format": "json""#), "response_format"),
            (Self.chatBody(#", "ignore_eos": "no""#), "ignore_eos"),
            (Self.chatBody(#", "cache_salt": 3"#), "cache_salt"),
            (Self.chatBody(#", "user": 3"#), "user"),
        ]
        for (body, param) in cases {
            expectError(harness.post(Self.chat, body), status: 400, code: "invalid_type", param: .some(param))
        }
        #expect(harness.service.submitted.isEmpty)
    }

    @Test func missingParameters() {
        let harness = Harness()
        expectError(harness.post(Self.chat, "{}"), status: 400, code: "missing_required_parameter", param: "messages")
        expectError(harness.post(Self.chat, #"{"messages": [{"content": "x"}]}"#), status: 400, code: "missing_required_parameter",
                    param: "messages[0].role")
        expectError(harness.post(Self.chat, #"{"messages": [{"role": "user"}]}"#), status: 400, code: "missing_required_parameter",
                    param: "messages[0].content")
        expectError(harness.post(Self.chat, #"{"messages": [{"role": "user", "content": [{"text": "x"}]}]}"#), status: 400,
                    code: "missing_required_parameter", param: "messages[0].content[0].type")
    }

    @Test func unknownRolesEmptyConversationsAndOutOfRangeValues() {
        let harness = Harness()
        let cases: [(String, String)] = [
            (#"{"messages": []}"#, "messages"),
            (#"{"messages": [{"role": "wizard", "content": "x"}]}"#, "messages[0].role"),
            (#"{"messages": [{"role": "user", "content": [{"type": "sound", "text": "x"}]}]}"#, "messages[0].content[0].type"),
            (Self.chatBody(#", "temperature": 2.5"#), "temperature"),
            (Self.chatBody(#", "temperature": -0.1"#), "temperature"),
            (Self.chatBody(#", "top_p": 0"#), "top_p"),
            (Self.chatBody(#", "top_p": 1.01"#), "top_p"),
            (Self.chatBody(#", "top_k": -2"#), "top_k"),
            (Self.chatBody(#", "min_p": 1.5"#), "min_p"),
            (Self.chatBody(#", "presence_penalty": 2.5"#), "presence_penalty"),
            (Self.chatBody(#", "frequency_penalty": -3"#), "frequency_penalty"),
            (Self.chatBody(#", "repetition_penalty": 0"#), "repetition_penalty"),
            (Self.chatBody(#", "n": 0"#), "n"),
            (Self.chatBody(#", "n": 129"#), "n"),
            (Self.chatBody(#", "max_tokens": 0"#), "max_tokens"),
            (Self.chatBody(#", "max_completion_tokens": -5"#), "max_completion_tokens"),
            (Self.chatBody(#", "min_tokens": 5, "max_tokens": 2"#), "min_tokens"),
            (Self.chatBody(#", "top_logprobs": 21, "logprobs": true"#), "top_logprobs"),
            (Self.chatBody(#", "top_logprobs": 2"#), "top_logprobs"),
            (Self.chatBody(#", "logit_bias": {"5": 101}"#), "logit_bias.5"),
            (Self.chatBody(#", "logit_bias": {"99999": 1}"#), "logit_bias"),
            (Self.chatBody(#", "logit_bias": {"abc": 1}"#), "logit_bias"),
            (Self.chatBody(#", "stop": ["a", ""]"#), "stop"),
            (Self.chatBody(#", "stop": ["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"]"#), "stop"),
            (Self.chatBody(#", "cache_salt": """#), "cache_salt"),
            (Self.chatBody(#", "response_format": {"type": "xml"}"#), "response_format.type"),
        ]
        for (body, param) in cases {
            expectError(harness.post(Self.chat, body), status: 400, code: "invalid_value", param: .some(param))
        }
        #expect(harness.service.submitted.isEmpty)
    }

    @Test func unimplementedFeaturesAreRefusedByName() {
        let harness = Harness()
        let cases: [(String, String)] = [
            (#", "functions": [{"name": "f"}]"#, "functions"),
            (#", "function_call": {"name": "f"}"#, "function_call"),
            (#", "audio": {"voice": "alloy", "format": "wav"}"#, "audio"),
            (#", "modalities": ["text", "audio"]"#, "modalities"),
        ]
        for (extra, param) in cases {
            expectError(harness.post(Self.chat, Self.chatBody(extra)), status: 400, code: "unsupported_parameter", param: .some(param))
        }
        expectError(harness.post(Self.chat, #"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}"#),
                    status: 400, code: "unsupported_parameter", param: "messages[0].content[0].type")
        #expect(harness.service.submitted.isEmpty)
    }

    @Test func contextLengthExceededCarriesTheTokenCounts() throws {
        let harness = Harness(service: FakeGenerationService(contextLength: 30))
        let long = String(repeating: "x", count: 40)
        var response = harness.post(Self.chat, #"{"messages": [{"role": "user", "content": "\#(long)"}]}"#)
        expectError(response, status: 400, code: "context_length_exceeded", param: "messages")
        var error = bodyJSON(response)["error"]
        #expect(error?["n_prompt_tokens"] == 59)
        #expect(error?["n_ctx"] == 30)
        #expect(error?["message"]?.stringValue?.contains("maximum context length is 30 tokens") == true)

        response = harness.post(Self.chat, Self.chatBody(#", "max_tokens": 10"#))
        expectError(response, status: 400, code: "context_length_exceeded", param: "max_tokens")
        error = bodyJSON(response)["error"]
        #expect(error?["n_prompt_tokens"] == 21)
        #expect(error?["max_tokens"] == 10)

        // Streaming requests get the same plain JSON 400, before any SSE.
        response = harness.post(Self.chat, #"{"stream": true, "messages": [{"role": "user", "content": "\#(long)"}]}"#)
        expectError(response, status: 400, code: "context_length_exceeded", param: "messages")

        response = harness.post("/v1/completions", #"{"prompt": "\#(long)"}"#)
        expectError(response, status: 400, code: "context_length_exceeded", param: "prompt")
        response = harness.post("/v1/completions", #"{"prompt": ["a", "\#(long)"], "echo": true, "max_tokens": 0}"#)
        expectError(response, status: 400, code: "context_length_exceeded", param: "prompt[1]")
        // A prompt exactly filling the context may be scored (max_tokens 0), not continued.
        let exact = String(repeating: "y", count: 30)
        #expect(harness.post("/v1/completions", #"{"prompt": "\#(exact)", "max_tokens": 0}"#).status == 200)
        expectError(harness.post("/v1/completions", #"{"prompt": "\#(exact)"}"#), status: 400, code: "context_length_exceeded")
        #expect(harness.service.submitted.count == 1)
    }

    @Test func contextErrorsFromTheEngineMapToo() {
        let harness = Harness(service: FakeGenerationService { _ in
            FakeScript(submitError: .contextLengthExceeded(promptTokens: 9, requestedTokens: nil, contextLength: 8))
        })
        let response = harness.post(Self.chat, Self.chatBody(""))
        expectError(response, status: 400, code: "context_length_exceeded", param: "messages")
        #expect(bodyJSON(response)["error"]?["n_ctx"] == 8)
    }

    @Test func kvMemoryRefusalIsA400() {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(submitError: .exceedsKVMemory(requiredBytes: 10, budgetBytes: 5)) })
        expectError(harness.post(Self.chat, Self.chatBody("")), status: 400, code: "kv_memory_exceeded", param: "messages")
    }

    @Test func missingOrWrongKeysAre401AndHealthAndMetricsStayOpen() {
        var options = Harness.defaultOptions
        options.apiKeys = ["sk-secret", "sk-second"]
        let harness = Harness(options: options)
        var response = harness.post(Self.chat, Self.chatBody(""))
        expectError(response, status: 401, code: "invalid_api_key", param: .some(nil))
        #expect(response.header("WWW-Authenticate") == "Bearer")
        expectError(harness.post(Self.chat, Self.chatBody(""), headers: [("Authorization", "Bearer sk-wrong")]), status: 401, code: "invalid_api_key")
        expectError(harness.post(Self.chat, Self.chatBody(""), headers: [("Authorization", "Bearer sk-secre")]), status: 401, code: "invalid_api_key")
        expectError(harness.post(Self.chat, Self.chatBody(""), headers: [("Authorization", "Bearer sk-secretX")]), status: 401, code: "invalid_api_key")
        expectError(harness.post(Self.chat, Self.chatBody(""), headers: [("Authorization", "sk-secret")]), status: 401, code: "invalid_api_key")
        expectError(harness.get("/v1/models"), status: 401, code: "invalid_api_key")
        expectError(harness.get("/slots"), status: 401, code: "invalid_api_key")
        expectError(harness.post("/tokenize", #"{"content": "a"}"#), status: 401, code: "invalid_api_key")
        #expect(harness.service.submitted.isEmpty)

        response = harness.post(Self.chat, Self.chatBody(""), headers: [("Authorization", "Bearer sk-secret")])
        #expect(response.status == 200)
        response = harness.post(Self.chat, Self.chatBody(""), headers: [("authorization", "bearer sk-second")])
        #expect(response.status == 200)
        response = harness.post(Self.chat, Self.chatBody(""), headers: [("X-Api-Key", "sk-secret")])
        #expect(response.status == 200)
        #expect(harness.get("/health").status == 200)
        #expect(harness.get("/metrics").status == 200)
    }

    @Test func unknownRoutesAndModelsAre404() {
        let harness = Harness()
        expectError(harness.get("/v1/nothing"), status: 404, code: "unknown_url", param: .some(nil))
        expectError(harness.post("/v2/chat/completions", "{}"), status: 404, code: "unknown_url")
        expectError(harness.post(Self.chat, Self.chatBody(#", "model": "gpt-5""#)), status: 404, code: "model_not_found", param: "model")
        expectError(harness.post("/v1/completions", #"{"model": "gpt-5", "prompt": "a"}"#), status: 404, code: "model_not_found", param: "model")
        expectError(harness.get("/v1/models/gpt-5"), status: 404, code: "model_not_found", param: "model")
        #expect(harness.service.submitted.isEmpty)
    }

    @Test func wrongMethodsAre405WithAllow() {
        let harness = Harness()
        var response = harness.get(Self.chat)
        expectError(response, status: 405, code: "method_not_allowed")
        #expect(response.header("Allow") == "POST")
        response = harness.post("/v1/models", "{}")
        expectError(response, status: 405, code: "method_not_allowed")
        #expect(response.header("Allow") == "GET")
        response = harness.server.handle(HTTPRequest(method: "DELETE", path: "/health"))
        expectError(response, status: 405, code: "method_not_allowed")
        #expect(harness.server.handle(HTTPRequest(method: "HEAD", path: "/health")).status == 200)
    }

    @Test func tooLargeBodiesAre413() {
        let harness = Harness()
        let response = harness.server.reject(method: "POST", path: Self.chat, error: .requestTooLarge(limit: 1024))
        expectError(response, status: 413, code: "request_too_large", param: .some(nil))
    }

    @Test func aFullQueueIs503WithRetryAfter() {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(submitError: .queueFull(capacity: 64)) })
        let response = harness.post(Self.chat, Self.chatBody(""))
        expectError(response, status: 503, code: "server_overloaded")
        #expect(response.header("Retry-After") == "1")
        #expect(bodyJSON(response)["error"]?["type"] == "server_error")
    }

    @Test func aRefusedChoiceCancelsTheOthers() {
        let harness = Harness(service: FakeGenerationService(queueCapacity: 2) { _ in FakeScript(reply: "slow", tokenDelay: 0.2) })
        let response = harness.post(Self.chat, Self.chatBody(#", "n": 3"#))
        expectError(response, status: 503, code: "server_overloaded")
        #expect(harness.service.cancelled.count == 2)
    }

    @Test func loadingModelIs503() {
        let harness = Harness(installService: false)
        var response = harness.get("/health")
        expectError(response, status: 503, code: "model_loading")
        #expect(response.header("Retry-After") == "5")
        #expect(bodyJSON(response)["error"]?["type"] == "unavailable_error")
        response = harness.post(Self.chat, Self.chatBody(""))
        expectError(response, status: 503, code: "model_loading")
        #expect(harness.get("/metrics").status == 200)
        harness.slot.install(harness.service)
        #expect(harness.get("/health").status == 200)
        harness.service.isReady = false
        expectError(harness.get("/health"), status: 503, code: "model_loading")
    }

    @Test func templateRejectionsAre400() {
        let harness = Harness()
        let response = harness.post(Self.chat, #"{"messages": [{"role": "user", "content": "RAISE_TEMPLATE_ERROR"}]}"#)
        expectError(response, status: 400, code: "invalid_value", param: "messages")
        #expect(bodyJSON(response)["error"]?["message"]?.stringValue?.contains("Conversation roles must alternate") == true)
    }

    @Test func engineFailuresAre500AndSaySo() {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(failAfterCharacters: 2) })
        let response = harness.post(Self.chat, Self.chatBody(""))
        expectError(response, status: 500, code: "internal_error")
        #expect(bodyJSON(response)["error"]?["message"]?.stringValue?.contains("scripted failure") == true)
    }

    @Test func shuttingDownIs503() {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(submitError: .shuttingDown) })
        expectError(harness.post(Self.chat, Self.chatBody("")), status: 503, code: "shutting_down")
    }
}
