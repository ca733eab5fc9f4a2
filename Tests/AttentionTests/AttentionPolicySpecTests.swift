import Attention
import Testing

/// The command-line form of a policy (`name[:knob=value...]`) and the label tables print.
@Suite struct AttentionPolicySpecTests {
    @Test func specsSetKnobsAndLabelsNameOnlyWhatDiffers() throws {
        #expect(try AttentionPolicy.parse(spec: "entropy") == AttentionPolicy(kind: .entropy))
        #expect(AttentionPolicy(kind: .entropy).label == "entropy")
        #expect(AttentionPolicy.dense.label == "dense")
        let tuned = try AttentionPolicy.parse(spec: "entropy:coverage=0.99:minimum_budget_tokens=1024:dense_last_segment=false")
        #expect(tuned.coverage == 0.99 && tuned.minimumBudgetTokens == 1024 && !tuned.denseLastSegment)
        #expect(tuned.label == "entropy:coverage=0.99:minimum_budget_tokens=1024:dense_last_segment=false")
        #expect(try AttentionPolicy.parse(spec: tuned.label) == tuned, "a label parses back to its policy")
        let uniform = try AttentionPolicy.parse(spec: "uniform:uniform_budget_tokens=4096")
        #expect(uniform.uniformBudgetTokens == 4096 && uniform.label == "uniform:uniform_budget_tokens=4096")
    }

    @Test func badSpecsSayWhatIsWrong() {
        let cases: [(String, String)] = [
            ("sparse", "unknown attention policy 'sparse'"),
            ("entropy:coverage", "is not knob=value"),
            ("entropy:coverage=high", "takes a number"),
            ("entropy:coverage=2", "must be in 0.0...1.0"),
            ("entropy:budget=5", "unknown attention knob 'budget'"),
            ("entropy:dense_last_segment=1", "takes true or false"),
            ("entropy:minimum_budget_tokens=9000", "exceeds 'maximum_budget_tokens'"),
        ]
        for (spec, message) in cases {
            #expect(throws: AttentionPolicyError.self, "\(spec)") { try AttentionPolicy.parse(spec: spec) }
            do { _ = try AttentionPolicy.parse(spec: spec) } catch { #expect(error.message.contains(message), "\(spec): \(error.message)") }
        }
    }
}
