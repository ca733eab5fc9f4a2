/// CTRL's repetition penalty (Keskar et al., 2019) with vLLM's and transformers' semantics: every
/// distinct token of the prompt and of the generated text, once however often it occurs, gets its
/// logit divided by the penalty when positive and multiplied by it otherwise, so a penalty above
/// 1 always makes a seen token less likely. 1 disables it.
///
/// `windowSize` > 0 restricts it to the last that many tokens of prompt + generation (llama.cpp's
/// `repeat_last_n`); 0 means every token, as vLLM does.
struct RepetitionPenalty {
    let penalty: Float
    let windowSize: Int
    private var occurrences: TokenOccurrences
    /// (windowSize) the last tokens, a ring buffer; empty when windowSize is 0.
    private var window: [Int32]
    private var windowNext = 0
    private var windowFilled = 0

    init(penalty: Float, windowSize: Int, vocabularySize: Int) {
        self.penalty = penalty
        self.windowSize = max(windowSize, 0)
        occurrences = TokenOccurrences(vocabularySize: vocabularySize, allowsRemoval: windowSize > 0)
        window = [Int32](repeating: 0, count: max(windowSize, 0))
    }

    /// Adds a prompt or generated token (a valid id) to the history.
    mutating func record(_ token: Int32) {
        if windowSize > 0 {
            if windowFilled == windowSize {
                occurrences.remove(window[windowNext])
            } else {
                windowFilled += 1
            }
            window[windowNext] = token
            windowNext = windowNext + 1 == windowSize ? 0 : windowNext + 1
        }
        occurrences.insert(token)
    }

    func apply(to logits: UnsafeMutablePointer<Float>) {
        for token in occurrences.distinct {
            let logit = logits[Int(token)]
            logits[Int(token)] = logit > 0 ? logit / penalty : logit * penalty
        }
    }
}
