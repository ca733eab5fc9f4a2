/// `min_tokens` (vLLM's extension): the end-of-generation tokens the engine names get a logit of
/// -infinity until that many tokens have been generated, so the model cannot stop early.
struct MinTokens {
    let minimum: Int
    /// Valid ids of the tokens that would end the generation (EOS, EOT, stop token ids).
    let endOfGenerationTokens: [Int32]

    init(minimum: Int, endOfGenerationTokens: Set<Int32>, vocabularySize: Int) {
        self.minimum = minimum
        self.endOfGenerationTokens = endOfGenerationTokens.filter { $0 >= 0 && Int($0) < vocabularySize }.sorted()
    }

    var isActive: Bool { minimum > 0 && !endOfGenerationTokens.isEmpty }

    func apply(to logits: UnsafeMutablePointer<Float>, generatedTokenCount: Int) {
        guard generatedTokenCount < minimum else { return }
        for token in endOfGenerationTokens {
            logits[Int(token)] = -.infinity
        }
    }
}
