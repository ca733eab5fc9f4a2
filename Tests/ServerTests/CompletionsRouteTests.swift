import Engine
import JSON
import Server
import Testing

@Suite("POST /v1/completions")
struct CompletionsRouteTests {
    @Test func stringPromptInOpenAIShape() throws {
        let harness = Harness()
        let response = harness.post("/v1/completions", #"{"model": "fake-model", "prompt": "Once", "max_tokens": 5}"#)
        #expect(response.status == 200)
        let body = bodyJSON(response)
        #expect(body.objectValue?.keys == ["id", "object", "created", "model", "choices", "usage"])
        #expect(body["id"]?.stringValue?.hasPrefix("cmpl-") == true)
        #expect(body["object"] == "text_completion")
        #expect(body["choices"] == [["index": 0, "text": "Hello", "logprobs": nil, "finish_reason": "length"]])
        #expect(body["usage"] == ["prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9,
                                  "prompt_tokens_details": ["cached_tokens": 0]])
        #expect(harness.service.submitted.first?.prompt == [79, 110, 99, 101].map { $0 + 5 })
    }

    @Test func addsBOSForTextPrompts() {
        let harness = Harness(service: FakeGenerationService(addBOS: true))
        _ = harness.post("/v1/completions", #"{"prompt": "x"}"#)
        #expect(harness.service.submitted.first?.prompt == [1, 120 + 5])
    }

    @Test func listsOfPromptsGetChoicesInPromptOrderTimesN() throws {
        let harness = Harness(service: FakeGenerationService { request in FakeScript(reply: "r\(request.prompt.count)") })
        let body = bodyJSON(harness.post("/v1/completions", #"{"prompt": ["a", "bb", [5, 6, 7]], "n": 2}"#))
        let choices = try #require(body["choices"]?.arrayValue)
        #expect(choices.map(\.["index"]) == [0, 1, 2, 3, 4, 5])
        #expect(choices.map { $0["text"]?.stringValue ?? "" } == ["r1", "r1", "r2", "r2", "r3", "r3"])
        #expect(body["usage"]?["prompt_tokens"] == 6)
        #expect(body["usage"]?["completion_tokens"] == 12)
        #expect(harness.service.submitted.count == 6)
    }

    @Test func tokenIDPromptsAreUsedAsGiven() {
        let harness = Harness()
        let body = bodyJSON(harness.post("/v1/completions", #"{"prompt": [3, 109, 110], "max_tokens": 1, "echo": true}"#))
        #expect(harness.service.submitted.first?.prompt == [3, 109, 110])
        #expect(body["choices"]?.arrayValue?.first?["text"] == "<|im_start|>hiH")
    }

    @Test func echoPrependsThePrompt() {
        let harness = Harness()
        let body = bodyJSON(harness.post("/v1/completions", #"{"prompt": "Say: ", "echo": true, "max_tokens": 2}"#))
        #expect(body["choices"]?.arrayValue?.first?["text"] == "Say: He")
    }

    @Test func legacyLogprobsListTokensLogprobsAlternativesAndOffsets() throws {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: "aé") })
        let body = bodyJSON(harness.post("/v1/completions", #"{"prompt": "p", "logprobs": 2}"#))
        #expect(harness.service.submitted.first?.logprobs == 2)
        #expect(harness.service.submitted.first?.promptLogprobs == nil)
        let logprobs = try #require(body["choices"]?.arrayValue?.first?["logprobs"])
        #expect(logprobs.objectValue?.keys == ["tokens", "token_logprobs", "top_logprobs", "text_offset"])
        #expect(logprobs["tokens"] == ["a", "\u{FFFD}", "\u{FFFD}"])
        #expect(logprobs["token_logprobs"] == [.float(-0.125), .float(-0.25), .float(-0.375)])
        #expect(logprobs["text_offset"] == [0, 1, 2])
        // Two alternatives plus the chosen token.
        #expect(logprobs["top_logprobs"]?.arrayValue?.first == ["b": .float(-1.125), "c": .float(-2.125), "a": .float(-0.125)])
    }

    @Test func echoWithMaxTokensZeroScoresThePrompt() throws {
        let harness = Harness()
        let body = bodyJSON(harness.post("/v1/completions", #"{"prompt": "abcd", "echo": true, "logprobs": 1, "max_tokens": 0}"#))
        let request = try #require(harness.service.submitted.first)
        #expect(request.maxTokens == 0)
        #expect(request.promptLogprobs == 1)
        let choice = try #require(body["choices"]?.arrayValue?.first)
        #expect(choice["text"] == "abcd")
        #expect(choice["finish_reason"] == "length")
        #expect(choice["logprobs"]?["tokens"] == ["a", "b", "c", "d"])
        #expect(choice["logprobs"]?["token_logprobs"] == [nil, -1.0, -2.0, -3.0])
        #expect(choice["logprobs"]?["top_logprobs"] == [nil, ["\u{5}": -0.5, "b": -1.0], ["\u{5}": -0.5, "c": -2.0], ["\u{5}": -0.5, "d": -3.0]])
        #expect(choice["logprobs"]?["text_offset"] == [0, 1, 2, 3])
        #expect(body["usage"]?["completion_tokens"] == 0)
    }

    @Test func echoOffsetsSkipTheBOSTheTokenizerAdded() throws {
        let harness = Harness(service: FakeGenerationService(addBOS: true) { _ in FakeScript(reply: "z") })
        let body = bodyJSON(harness.post("/v1/completions", #"{"prompt": "ab", "echo": true, "logprobs": 0}"#))
        let logprobs = try #require(body["choices"]?.arrayValue?.first?["logprobs"])
        #expect(logprobs["tokens"] == ["<s>", "a", "b", "z"])
        #expect(logprobs["text_offset"] == [0, 0, 1, 2])
        #expect(body["choices"]?.arrayValue?.first?["text"] == "abz")
    }

    @Test func suffixAndBestOfAreRefusedByName() {
        let harness = Harness()
        expectError(harness.post("/v1/completions", #"{"prompt": "a", "suffix": "end"}"#), status: 400,
                    code: "unsupported_parameter", param: "suffix")
        expectError(harness.post("/v1/completions", #"{"prompt": "a", "best_of": 3}"#), status: 400,
                    code: "unsupported_parameter", param: "best_of")
        #expect(harness.post("/v1/completions", #"{"prompt": "a", "suffix": null, "best_of": 1}"#).status == 200)
        #expect(harness.service.submitted.count == 1)
    }

    @Test func badPromptsAreNamed() {
        let harness = Harness()
        expectError(harness.post("/v1/completions", #"{}"#), status: 400, code: "missing_required_parameter", param: "prompt")
        expectError(harness.post("/v1/completions", #"{"prompt": 5}"#), status: 400, code: "invalid_type", param: "prompt")
        expectError(harness.post("/v1/completions", #"{"prompt": []}"#), status: 400, code: "invalid_value", param: "prompt")
        expectError(harness.post("/v1/completions", #"{"prompt": ""}"#), status: 400, code: "invalid_value", param: "prompt")
        expectError(harness.post("/v1/completions", #"{"prompt": [1, 9999]}"#), status: 400, code: "invalid_value", param: "prompt[1]")
        expectError(harness.post("/v1/completions", #"{"prompt": [1, -1]}"#), status: 400, code: "invalid_value", param: "prompt[1]")
        expectError(harness.post("/v1/completions", #"{"prompt": ["a", true]}"#), status: 400, code: "invalid_type", param: "prompt[1]")
        expectError(harness.post("/v1/completions", #"{"prompt": [[1, "x"]]}"#), status: 400, code: "invalid_type", param: "prompt[0][1]")
        expectError(harness.post("/v1/completions", #"{"prompt": "a", "logprobs": true}"#), status: 400, code: "invalid_type", param: "logprobs")
        expectError(harness.post("/v1/completions", #"{"prompt": "a", "logprobs": 21}"#), status: 400, code: "invalid_value", param: "logprobs")
        expectError(harness.post("/v1/completions", #"{"prompt": "a", "max_tokens": -1}"#), status: 400, code: "invalid_value", param: "max_tokens")
        #expect(harness.service.submitted.isEmpty)
    }

    @Test func tooManyGenerationsInOneRequestAreRefused() {
        let harness = Harness()
        let prompts = (0..<20).map { _ in "\"a\"" }.joined(separator: ",")
        expectError(harness.post("/v1/completions", #"{"prompt": [\#(prompts)], "n": 7}"#), status: 400, code: "invalid_value", param: "prompt")
    }
}
