/// What `entropyinfer eval` measures.
public enum EvaluationTask: String, Sendable, CaseIterable, Comparable {
    /// One needle; the question asks for its number.
    case needleSingle = "niah-single"
    /// Several needles with different keys (RULER's multikey); the question asks for one.
    case needleMulti = "niah-multi"
    /// Perplexity and mean NLL of the real text, and next-token KL divergence against dense, at
    /// positions inside one prefilled window. Under a sparse policy this is not a causal score:
    /// a segment's blocks are chosen from queries sampled over the whole segment, so a position's
    /// prediction reads blocks its own later tokens asked for.
    case perplexity = "ppl"
    /// The same statistics with every scored token predicted at the end of a prompt that stops
    /// just before it (the first generated token of that prompt, as the engine runs it): no
    /// scored prediction sees its target. See `PerplexityEvaluator`.
    case perplexityAtPromptEnd = "ppl-end"

    public var isNeedle: Bool { !isPerplexity }
    public var isPerplexity: Bool { self == .perplexity || self == .perplexityAtPromptEnd }

    /// Needles in a prompt: the asked one plus distractors with other keys.
    public var needleCount: Int {
        switch self {
        case .needleSingle: return 1
        case .needleMulti: return 4
        case .perplexity, .perplexityAtPromptEnd: return 0
        }
    }

    public static func < (a: EvaluationTask, b: EvaluationTask) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
