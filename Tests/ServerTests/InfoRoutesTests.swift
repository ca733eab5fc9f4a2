import Engine
import Foundation
import JSON
import Server
import Testing

@Suite("Models, tokenize, health, slots")
struct InfoRoutesTests {
    @Test func modelsListServedNamesWithMaxModelLenAndMeta() throws {
        var options = Harness.defaultOptions
        options.aliases = ["my-alias"]
        let harness = Harness(options: options)
        let body = bodyJSON(harness.get("/v1/models"))
        #expect(body["object"] == "list")
        let data = try #require(body["data"]?.arrayValue)
        #expect(data.map(\.["id"]) == ["my-alias", "fake-model"])
        let entry = data[1]
        #expect(entry["object"] == "model")
        #expect(entry["owned_by"] == "entropyinfer")
        #expect(entry["root"] == "fake-model")
        #expect(entry["max_model_len"] == 256)
        #expect(entry["meta"] == ["architecture": "llama", "parameters": 1_234_567, "quantization": "Q8_0",
                                  "context_length": 256, "vocab_size": 261, "size_bytes": 4096])
        let one = bodyJSON(harness.get("/v1/models/my-alias"))
        #expect(one["id"] == "my-alias")
        #expect(one["max_model_len"] == 256)
        #expect(harness.get("/v1/models/").status == 200)
        var slashed = Harness.defaultOptions
        slashed.aliases = ["meta-llama/Llama-3.2-1B-Instruct"]
        let withSlash = Harness(options: slashed)
        #expect(bodyJSON(withSlash.get("/v1/models/meta-llama/Llama-3.2-1B-Instruct"))["id"] == "meta-llama/Llama-3.2-1B-Instruct")
        expectError(withSlash.get("/v1/models/meta-llama/other"), status: 404, code: "model_not_found")
    }

    @Test func tokenizeLikeLlamaCpp() throws {
        let harness = Harness(service: FakeGenerationService(addBOS: true))
        var body = bodyJSON(harness.post("/tokenize", #"{"content": "hi<|im_end|>"}"#))
        #expect(body == ["tokens": [109, 110, 4]])
        body = bodyJSON(harness.post("/tokenize", #"{"content": "hi", "add_special": true}"#))
        #expect(body == ["tokens": [1, 109, 110]])
        body = bodyJSON(harness.post("/tokenize", #"{"content": "<|im_end|>", "parse_special": false}"#))
        #expect(body["tokens"]?.arrayValue?.count == 10)
        body = bodyJSON(harness.post("/tokenize", #"{"content": "aé", "with_pieces": true}"#))
        #expect(body == ["tokens": [["id": 102, "piece": "a"], ["id": 200, "piece": [0xC3]], ["id": 174, "piece": [0xA9]]]])
        expectError(harness.post("/tokenize", #"{"text": "x"}"#), status: 400, code: "missing_required_parameter", param: "content")
        expectError(harness.post("/tokenize", #"{"content": 1}"#), status: 400, code: "invalid_type", param: "content")
    }

    @Test func detokenizeRoundTrips() throws {
        let harness = Harness()
        #expect(bodyJSON(harness.post("/detokenize", #"{"tokens": [109, 110, 200, 174]}"#)) == ["content": "hié"])
        #expect(bodyJSON(harness.post("/detokenize", #"{"tokens": []}"#)) == ["content": ""])
        expectError(harness.post("/detokenize", #"{"tokens": [5000]}"#), status: 400, code: "invalid_value", param: "tokens[0]")
        expectError(harness.post("/detokenize", #"{"tokens": ["a"]}"#), status: 400, code: "invalid_type", param: "tokens[0]")
        expectError(harness.post("/detokenize", #"{}"#), status: 400, code: "missing_required_parameter", param: "tokens")
    }

    @Test func healthIsOkWhenReady() {
        let harness = Harness()
        let response = harness.get("/health")
        #expect(response.status == 200)
        #expect(bodyJSON(response) == ["status": "ok"])
    }

    @Test func slotsListSessionsWithoutPromptText() throws {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: "zzzzzzzzzz", tokenDelay: 0.05) })
        #expect(bodyJSON(harness.get("/slots")) == [])
        let response = harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "secret prompt"}], "stream": true}"#)
        let body = bodyJSON(harness.get("/slots"))
        let session = try #require(body.arrayValue?.first)
        #expect(session.objectValue?.keys == ["id", "state", "prompt_tokens", "processed_prompt_tokens", "generated_tokens", "kv_bytes",
                                              "kv_bytes_uncompressed", "kv_compression", "kv_compressions"])
        #expect(session["kv_bytes"] == 4096 && session["kv_bytes_uncompressed"] == 16384 && session["kv_compression"] == "entropy")
        #expect(!body.jsonText.contains("secret"))
        _ = drain(response)
    }
}

@Suite("Metrics")
struct MetricsTests {
    @Test func exposesVLLMNamesWithThePrefixLabelsAndHistograms() throws {
        let harness = Harness(service: FakeGenerationService { _ in FakeScript(reply: "abc", tokenDelay: 0.002) })
        _ = harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}]}"#)
        _ = drain(harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true, "max_tokens": 2}"#))
        _ = harness.post("/v1/nothing", "")
        let response = harness.get("/metrics")
        #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        let text = String(decoding: response.bodyBytes ?? [], as: UTF8.self)
        let labels = #"{model_name="fake-model",engine="0"}"#
        for line in [
            "entropyinfer:num_requests_running\(labels) 0",
            "entropyinfer:num_requests_decoding\(labels) 0",
            "entropyinfer:kv_cache_usage_perc\(labels) 0.25",
            "entropyinfer:prefix_cache_queries_total\(labels) 10",
            "entropyinfer:prefix_cache_hits_total\(labels) 4",
            "entropyinfer:num_preemptions_total\(labels) 0",
            "entropyinfer:prompt_tokens_total\(labels) 42",
            "entropyinfer:generation_tokens_total\(labels) 5",
            #"entropyinfer:request_success_total{model_name="fake-model",engine="0",finished_reason="stop"} 1"#,
            #"entropyinfer:request_success_total{model_name="fake-model",engine="0",finished_reason="length"} 1"#,
            #"entropyinfer:request_success_total{model_name="fake-model",engine="0",finished_reason="abort"} 0"#,
            "entropyinfer:time_to_first_token_seconds_count\(labels) 2",
            #"entropyinfer:time_to_first_token_seconds_bucket{model_name="fake-model",engine="0",le="2560"} 2"#,
            #"entropyinfer:time_to_first_token_seconds_bucket{model_name="fake-model",engine="0",le="+Inf"} 2"#,
            "entropyinfer:inter_token_latency_seconds_count\(labels) 3",
            "entropyinfer:e2e_request_latency_seconds_count\(labels) 2",
            "entropyinfer:request_generation_tokens_sum\(labels) 5",
            "entropyinfer:request_prompt_tokens_sum\(labels) 42",
            #"entropyinfer:http_responses_total{model_name="fake-model",engine="0",status="200"} 2"#,
            #"entropyinfer:http_responses_total{model_name="fake-model",engine="0",status="404"} 1"#,
            "# TYPE entropyinfer:time_to_first_token_seconds histogram",
            "# TYPE entropyinfer:num_requests_waiting gauge",
            "# TYPE entropyinfer:prompt_tokens_total counter",
        ] {
            #expect(text.contains(line + "\n"), "missing: \(line)")
        }
        // vLLM's TTFT buckets, in order.
        let bounds = text.split(separator: "\n").filter { $0.hasPrefix("entropyinfer:time_to_first_token_seconds_bucket") }
            .compactMap { $0.split(separator: "le=\"").last?.split(separator: "\"").first.map(String.init) }
        #expect(bounds == ["0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5", "0.75", "1", "2.5", "5",
                           "7.5", "10", "20", "40", "80", "160", "640", "2560", "+Inf"])
    }

    @Test func everySampleLineIsWellFormedAndTyped() {
        let harness = Harness()
        _ = harness.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "Hi"}]}"#)
        let text = String(decoding: harness.get("/metrics").bodyBytes ?? [], as: UTF8.self)
        var typed: Set<String> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                typed.insert(String(line.split(separator: " ")[2]))
                continue
            }
            if line.hasPrefix("# HELP ") { continue }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            let base = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && !typed.contains($0) ? String($0.dropLast($1.count)) : $0 }
            #expect(typed.contains(base), "sample before its TYPE: \(line)")
            #expect(name.hasPrefix("entropyinfer:"))
            #expect(Double(line.split(separator: " ").last.map(String.init) ?? "x") != nil, "value of \(line)")
        }
    }

    @Test func histogramCountsAreCumulative() {
        let histogram = Histogram(upperBounds: [1, 2, 5])
        for value in [0.5, 1, 1.5, 3, 10] { histogram.observe(value) }
        histogram.observe(0.1, count: 2)
        let snapshot = histogram.snapshot()
        #expect(snapshot.cumulativeCounts == [4, 5, 6, 7])
        #expect(snapshot.count == 7)
        #expect(abs(snapshot.sum - 16.2) < 1e-9)
        #expect(Histogram.oneTwoFiveBounds(upTo: 100) == [1, 2, 5, 10, 20, 50, 100])
    }
}

@Suite("Router")
struct RouterTests {
    struct Stub: Route {
        let method: String
        let pattern: String
        func handle(_ request: HTTPRequest, context: RouteContext) throws(APIError) -> HTTPResponse { .text("", contentType: "text/plain") }
    }

    @Test func matchesSegmentsParametersAndTheRest() {
        let router = Router(routes: [Stub(method: "GET", pattern: "/a/{x}/c"), Stub(method: "GET", pattern: "/m/{name*}"),
                                     Stub(method: "POST", pattern: "/a/{x}/c")])
        guard case .route(_, let parameters) = router.match(method: "GET", path: "/a/b/c") else { Issue.record("no match"); return }
        #expect(parameters == ["x": "b"])
        guard case .route(_, let rest) = router.match(method: "GET", path: "/m/org/name/v1") else { Issue.record("no match"); return }
        #expect(rest == ["name": "org/name/v1"])
        guard case .methodNotAllowed(let allowed) = router.match(method: "PUT", path: "/a/b/c") else { Issue.record("not 405"); return }
        #expect(allowed == ["GET", "POST"])
        guard case .notFound = router.match(method: "GET", path: "/m") else { Issue.record("not 404"); return }
        guard case .route = router.match(method: "HEAD", path: "/a/b/c/") else { Issue.record("HEAD not served by GET"); return }
    }
}
