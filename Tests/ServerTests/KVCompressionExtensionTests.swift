import Engine
import JSON
import KVMemory
import Server
import Testing

/// The `"kv_compression"` request extension and the `usage.kv_compression` report.
@Suite("KV compression extension")
struct KVCompressionExtensionTests {
    static let chat = "/v1/chat/completions"
    static func chatBody(_ extra: String) -> String { #"{"messages": [{"role": "user", "content": "Hi"}]\#(extra)}"# }

    @Test func policyAndKnobsReachTheEngine() throws {
        let harness = Harness()
        let response = harness.post(Self.chat, Self.chatBody(#", "max_tokens": 3, "kv_compression": {"policy": "entropy", "budget": 512, "allocation": "adakv", "slack_tokens": 64, "prefill_budget_factor": 8}"#))
        #expect(response.status == 200)
        let policy = try #require(harness.service.submitted.first?.kvCompression)
        #expect(policy.kind == .entropy && policy.budget == 512 && policy.allocation == .adakv && policy.slackTokens == 64
                && policy.prefillBudgetFactor == 8)
        let promptTokens = harness.service.submitted[0].prompt.count
        #expect(bodyJSON(response)["usage"]?["kv_compression"] == [
            "policy": "entropy", "budget": 512, "compressions": 2, "entries_evicted": 0, "kv_bytes": .int(256 * promptTokens),
            "kv_bytes_uncompressed": .int(1024 * promptTokens), "kv_bytes_largest_after_compression": 0,
        ])

        let completion = harness.post("/v1/completions", #"{"prompt": "Hi", "max_tokens": 2, "kv_compression": "latent"}"#)
        #expect(completion.status == 200)
        #expect(harness.service.submitted.last?.kvCompression?.kind == .latent)
        #expect(bodyJSON(completion)["usage"]?["kv_compression"]?["policy"] == "latent")
        let expanded = harness.post(Self.chat, Self.chatBody(#", "kv_compression": {"policy": "snapkv", "expand_gqa": false, "pooling": "max"}"#))
        #expect(expanded.status == 200)
        #expect(harness.service.submitted.last?.kvCompression?.expandGQA == false)
        #expect(harness.service.submitted.last?.kvCompression?.pooling == .max)
    }

    @Test func withoutTheFieldTheDefaultAppliesAndUsageKeepsOpenAIShape() {
        let harness = Harness()
        let response = harness.post(Self.chat, Self.chatBody(#", "max_tokens": 2"#))
        #expect(response.status == 200)
        #expect(harness.service.submitted.first?.kvCompression == nil)
        #expect(bodyJSON(response)["usage"]?["kv_compression"] == nil)
        let none = harness.post(Self.chat, Self.chatBody(#", "max_tokens": 2, "kv_compression": "none""#))
        #expect(none.status == 200)
        #expect(harness.service.submitted.last?.kvCompression?.isNone == true)
        #expect(bodyJSON(none)["usage"]?["kv_compression"] == nil)
    }

    @Test func badPoliciesAndKnobsAreRefusedNamingTheField() {
        let harness = Harness()
        let cases: [(String, String)] = [
            (#", "kv_compression": {"policy": "h2o"}"#, "unknown KV compression policy 'h2o'"),
            (#", "kv_compression": "lossy""#, "unknown KV compression policy 'lossy'"),
            (#", "kv_compression": {"budget": 512}"#, "string 'policy'"),
            (#", "kv_compression": {"policy": "entropy", "coverage": 0.5}"#, "unknown KV compression knob 'coverage'"),
            (#", "kv_compression": {"policy": "entropy", "budget": 0}"#, "'budget' must be in"),
            (#", "kv_compression": {"policy": "snapkv", "budget": 16}"#, "must exceed 'window_tokens'"),
            (#", "kv_compression": {"policy": "entropy", "pooling_kernel": 4}"#, "must be odd"),
            (#", "kv_compression": {"policy": "entropy", "allocation": "greedy"}"#, "must be one of"),
            (#", "kv_compression": {"policy": "entropy", "budget": [1]}"#, "expected a number, a boolean or a string"),
            (#", "kv_compression": 3"#, "expected a policy name or an object"),
        ]
        for (extra, fragment) in cases {
            let response = harness.post(Self.chat, Self.chatBody(extra))
            expectError(response, status: 400, code: "invalid_value")
            let error = bodyJSON(response)["error"]
            let message = error?["message"]?.stringValue ?? ""
            #expect(message.contains(fragment), "\(extra): \(message)")
            #expect(error?["param"]?.stringValue?.hasPrefix("kv_compression") == true, "\(extra): \(String(describing: error))")
        }
        #expect(harness.service.submitted.isEmpty)
    }
}
