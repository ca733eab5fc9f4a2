import Attention
import Engine
import JSON
import Server
import Testing

/// The `"attention"` request extension and the `usage.attention` report.
@Suite("Attention extension")
struct AttentionExtensionTests {
    static let chat = "/v1/chat/completions"
    static func chatBody(_ extra: String) -> String { #"{"messages": [{"role": "user", "content": "Hi"}]\#(extra)}"# }

    @Test func policyAndKnobsReachTheEngine() throws {
        let harness = Harness()
        let response = harness.post(Self.chat, Self.chatBody(#", "max_tokens": 3, "attention": {"policy": "entropy", "coverage": 0.9, "sink_tokens": 32, "dense_last_segment": false}"#))
        #expect(response.status == 200)
        let policy = try #require(harness.service.submitted.first?.attention)
        #expect(policy.kind == .entropy && policy.coverage == 0.9 && policy.sinkTokens == 32 && !policy.denseLastSegment)
        let attention = bodyJSON(response)["usage"]?["attention"]
        let promptTokens = harness.service.submitted[0].prompt.count
        #expect(attention == ["policy": "entropy", "pairs_computed": .int(60 * promptTokens), "pairs_dense": .int(100 * promptTokens),
                              "pairs_skipped": .int(40 * promptTokens)])

        let completion = harness.post("/v1/completions", #"{"prompt": "Hi", "max_tokens": 2, "attention": "uniform"}"#)
        #expect(completion.status == 200)
        #expect(harness.service.submitted.last?.attention?.kind == .uniform)
        #expect(bodyJSON(completion)["usage"]?["attention"]?["policy"] == "uniform")
    }

    @Test func withoutTheFieldTheServerDefaultAppliesAndUsageKeepsOpenAIShape() {
        let harness = Harness()
        let response = harness.post(Self.chat, Self.chatBody(#", "max_tokens": 2"#))
        #expect(response.status == 200)
        #expect(harness.service.submitted.first?.attention == nil)
        #expect(bodyJSON(response)["usage"]?["attention"] == nil)
    }

    @Test func badPoliciesAndKnobsAreRefusedWithAClearMessage() {
        let harness = Harness()
        let cases: [(String, String)] = [
            (#", "attention": {"policy": "sparse"}"#, "unknown attention policy 'sparse'"),
            (#", "attention": "fast""#, "unknown attention policy 'fast'"),
            (#", "attention": {"coverage": 0.5}"#, "string 'policy'"),
            (#", "attention": {"policy": "entropy", "budget": 5}"#, "unknown attention knob 'budget'"),
            (#", "attention": {"policy": "entropy", "coverage": 2}"#, "'coverage' must be in"),
            (#", "attention": {"policy": "entropy", "segment_tokens": 500}"#, "multiple of 16"),
            (#", "attention": {"policy": "entropy", "sink_tokens": "many"}"#, "expected a number or a boolean"),
            (#", "attention": 3"#, "expected a policy name or an object"),
        ]
        for (extra, fragment) in cases {
            let response = harness.post(Self.chat, Self.chatBody(extra))
            expectError(response, status: 400, code: "invalid_value")
            let message = bodyJSON(response)["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains(fragment), "\(extra): \(message)")
        }
        #expect(harness.service.submitted.isEmpty)
    }
}
