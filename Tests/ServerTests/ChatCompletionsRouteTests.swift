import Engine
import JSON
import Server
import Testing

@Suite("POST /v1/chat/completions")
struct ChatCompletionsRouteTests {
    static let hello = #"{"model": "fake-model", "messages": [{"role": "user", "content": "Hi"}]}"#

    @Test func answersInOpenAIShape() throws {
        let harness = Harness()
        let response = harness.post("/v1/chat/completions", Self.hello)
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        let body = bodyJSON(response)
        #expect(body.objectValue?.keys == ["id", "object", "created", "model", "choices", "usage"])
        #expect(body["id"]?.stringValue?.hasPrefix("chatcmpl-") == true)
        #expect(body["object"] == "chat.completion")
        #expect(body["model"] == "fake-model")
        #expect((body["created"]?.intValue ?? 0) > 1_700_000_000)
        let choice = body["choices"]?.arrayValue?.first
        #expect(choice?["index"] == 0)
        #expect(choice?["message"] == ["role": "assistant", "content": "Hello, world!"])
        #expect(choice?["finish_reason"] == "stop")
        #expect(choice?["logprobs"] == .null)
        // ChatML of one user message, byte-level: 1 special + "user\nHi" + 1 special + "\n" + 1 special + "assistant\n"
        let promptTokens = 1 + 7 + 1 + 1 + 1 + 10
        #expect(harness.service.submitted.first?.prompt.count == promptTokens)
        #expect(body["usage"] == ["prompt_tokens": .int(promptTokens), "completion_tokens": 13,
                                  "total_tokens": .int(promptTokens + 13), "prompt_tokens_details": ["cached_tokens": 0]])
    }

    @Test func rendersMessagesWithTheTemplateVariables() throws {
        let harness = Harness()
        let response = harness.post("/v1/chat/completions", """
            {"messages": [{"role": "developer", "content": "Be brief."},
                          {"role": "user", "content": [{"type": "text", "text": "line one"}, {"type": "text", "text": "line two"}], "name": "ann"},
                          {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                          {"role": "tool", "content": "42", "tool_call_id": "c1"},
                          {"role": "user", "content": "again"}]}
            """)
        #expect(response.status == 200)
        let messages = harness.renderer.messages
        #expect(messages.count == 5)
        #expect(messages[0] == .object([("role", .string("system")), ("content", .string("Be brief."))]))
        #expect(messages[1] == .object([("role", .string("user")), ("content", .string("line one\nline two")), ("name", .string("ann"))]))
        #expect(messages[2] == .object([("role", .string("assistant")), ("content", .null),
                                        ("tool_calls", .array([.object([("id", .string("c1")), ("type", .string("function")),
                                                                         ("function", .object([("name", .string("f")), ("arguments", .object([]))]))])]))]))
        #expect(messages[3] == .object([("role", .string("tool")), ("content", .string("42")), ("tool_call_id", .string("c1"))]))
        #expect(harness.renderer.variables["bos_token"] == .string("<s>"))
        #expect(harness.renderer.variables["eos_token"] == .string("</s>"))
        let prompt = harness.service.tokenizer.decode(harness.service.submitted[0].prompt)
        #expect(prompt.hasPrefix("<|im_start|>system\nBe brief.<|im_end|>\n"))
        #expect(prompt.hasSuffix("<|im_start|>assistant\n"))
    }

    @Test func prependsBOSWhenTheVocabularyWantsItAndTheTemplateDidNotWriteIt() {
        let harness = Harness(service: FakeGenerationService(addBOS: true))
        _ = harness.post("/v1/chat/completions", Self.hello)
        #expect(harness.service.submitted.first?.prompt.first == 1)
        #expect(harness.service.submitted.first?.prompt.dropFirst().first == 3)
    }

    @Test func maxTokensEndsWithLengthAndMaxCompletionTokensWins() {
        let harness = Harness()
        var body = bodyJSON(harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5}"#))
        #expect(body["choices"]?.arrayValue?.first?["message"]?["content"] == "Hello")
        #expect(body["choices"]?.arrayValue?.first?["finish_reason"] == "length")
        #expect(body["usage"]?["completion_tokens"] == 5)
        body = bodyJSON(harness.post("/v1/chat/completions",
                                     #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5, "max_completion_tokens": 2}"#))
        #expect(body["choices"]?.arrayValue?.first?["message"]?["content"] == "He")
        #expect(harness.service.submitted.map(\.maxTokens) == [5, 2])
    }

    @Test func absentMaxTokensMeansUntilTheContextIsFull() {
        let harness = Harness()
        _ = harness.post("/v1/chat/completions", Self.hello)
        #expect(harness.service.submitted.first?.maxTokens == nil)
    }

    @Test func passesSamplingAndExtensionParametersToTheEngine() throws {
        let harness = Harness()
        let response = harness.post("/v1/chat/completions", """
            {"messages": [{"role": "user", "content": "Hi"}], "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05,
             "presence_penalty": 0.5, "frequency_penalty": -0.5, "repetition_penalty": 1.1, "seed": -1,
             "logit_bias": {"7": 5, "9": -100}, "stop": ["\\n\\n", "END"], "ignore_eos": true, "min_tokens": 3,
             "cache_prompt": false, "cache_salt": "tenant-a", "user": "u1", "store": true, "metadata": {"a": "b"},
             "parallel_tool_calls": false, "tool_choice": "none", "tools": [], "response_format": {"type": "text"}}
            """)
        #expect(response.status == 200)
        let request = try #require(harness.service.submitted.first)
        #expect(request.sampling.temperature == 0.7)
        #expect(request.sampling.topP == 0.9)
        #expect(request.sampling.topK == 40)
        #expect(request.sampling.minP == 0.05)
        #expect(request.sampling.presencePenalty == 0.5)
        #expect(request.sampling.frequencyPenalty == -0.5)
        #expect(request.sampling.repetitionPenalty == 1.1)
        #expect(request.sampling.seed == UInt64.max)
        #expect(request.sampling.logitBias == [7: 5, 9: -100])
        #expect(request.stop == ["\n\n", "END"])
        #expect(request.ignoreEOS)
        #expect(request.minTokens == 3)
        #expect(!request.cachePrompt)
        #expect(request.cacheSalt == "tenant-a")
        #expect(request.logprobs == nil)
        #expect(!request.returnProgress)
    }

    @Test func stopStringsEndTheTextWithoutThemselves() {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: "one two three") })
        // The fake stops when its text ends with a stop string and emits text up to before it.
        let body = bodyJSON(harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "stop": "t"}"#))
        #expect(body["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        #expect(body["choices"]?.arrayValue?.first?["message"]?["content"] == "one ")
    }

    @Test func nChoicesUseConsecutiveSeeds() throws {
        let harness = Harness()
        let body = bodyJSON(harness.post("/v1/chat/completions",
                                         #"{"messages": [{"role": "user", "content": "Hi"}], "n": 3, "seed": 10, "temperature": 1}"#))
        let choices = try #require(body["choices"]?.arrayValue)
        #expect(choices.map(\.["index"]) == [0, 1, 2])
        #expect(choices.map { $0["message"]?["content"]?.stringValue ?? "" } == ["Hello, world! #10", "Hello, world! #11", "Hello, world! #12"])
        #expect(Set(harness.service.submitted.map(\.sampling.seed)) == [10, 11, 12])
        #expect(Set(harness.service.submitted.map(\.id)).count == 3)
        // Prompt tokens count once; completion tokens add up.
        let prompt = harness.service.submitted[0].prompt.count
        #expect(body["usage"]?["prompt_tokens"] == .int(prompt))
        #expect(body["usage"]?["completion_tokens"] == .int(3 * 17))
    }

    @Test func logprobsCarryTokensBytesAndAlternatives() throws {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: "aü") })
        let body = bodyJSON(harness.post("/v1/chat/completions",
                                         #"{"messages": [{"role": "user", "content": "Hi"}], "logprobs": true, "top_logprobs": 2}"#))
        #expect(harness.service.submitted.first?.logprobs == 2)
        let content = try #require(body["choices"]?.arrayValue?.first?["logprobs"]?["content"]?.arrayValue)
        #expect(content.count == 3)  // "a" and the two bytes of "ü"
        #expect(content[0]["token"] == "a")
        #expect(content[0]["bytes"] == [97])
        #expect(content[0]["logprob"] == .float(FakeGenerationService.logprob(0)))
        #expect(content[1]["bytes"] == [0xC3])
        #expect(content[2]["bytes"] == [0xBC])
        #expect(content[0]["top_logprobs"]?.arrayValue?.count == 2)
        #expect(content[0]["top_logprobs"]?.arrayValue?.first?["token"] == "b")
        #expect(content[0]["top_logprobs"]?.arrayValue?.first?["logprob"] == .float(FakeGenerationService.logprob(0) - 1))
    }

    @Test func logprobsWithoutTopLogprobsListNoAlternatives() throws {
        let harness = Harness()
        let body = bodyJSON(harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "logprobs": true}"#))
        #expect(harness.service.submitted.first?.logprobs == 0)
        let first = try #require(body["choices"]?.arrayValue?.first?["logprobs"]?["content"]?.arrayValue?.first)
        #expect(first["top_logprobs"] == [])
    }

    @Test func servedNamesIncludeConfiguredAliases() {
        var options = Harness.defaultOptions
        options.aliases = ["gpt-4o-mini"]
        let harness = Harness(options: options)
        let body = bodyJSON(harness.post("/v1/chat/completions", #"{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}"#))
        #expect(body["model"] == "gpt-4o-mini")
        #expect(harness.post("/v1/chat/completions", Self.hello).status == 200)
    }

    @Test func modelIsOptional() {
        let harness = Harness()
        #expect(harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}]}"#).status == 200)
    }

    @Test func requestLogLineHasMethodPathStatusTokensAndDuration() throws {
        let harness = Harness()
        _ = harness.post("/v1/chat/completions", Self.hello)
        let line = try #require(harness.logs.lines.last)
        #expect(line.contains(" info    POST /v1/chat/completions 200 prompt_tokens=21 completion_tokens=13 "))
        #expect(line.hasSuffix("s"))
    }

    @Test func requestLogCanBeTurnedOff() {
        var options = Harness.defaultOptions
        options.requestLog = false
        let harness = Harness(options: options)
        _ = harness.post("/v1/chat/completions", Self.hello)
        #expect(harness.logs.lines.isEmpty)
    }
}
