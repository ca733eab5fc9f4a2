/// OpenAI's frequency and presence penalties over the generated tokens only (not the prompt):
/// `logit -= frequency · count + presence · [count > 0]`, with count the occurrences of the
/// token in the output so far. Subtracted in vLLM's order (frequency, then presence). Positive
/// values discourage repetition, negative values encourage it; 0 disables each.
struct FrequencyPresencePenalty {
    let frequency: Float
    let presence: Float
    private var occurrences: TokenOccurrences

    init(frequency: Float, presence: Float, vocabularySize: Int) {
        self.frequency = frequency
        self.presence = presence
        occurrences = TokenOccurrences(vocabularySize: vocabularySize, allowsRemoval: false)
    }

    /// Adds a generated token (a valid id).
    mutating func record(_ token: Int32) {
        occurrences.insert(token)
    }

    func apply(to logits: UnsafeMutablePointer<Float>) {
        for token in occurrences.distinct {
            let id = Int(token)
            logits[id] -= frequency * Float(occurrences.counts[id])
            logits[id] -= presence
        }
    }
}
