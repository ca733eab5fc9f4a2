/// What `entropyinfer eval` measures.
public enum EvaluationTask: String, Sendable, CaseIterable, Comparable {
    /// One needle; the question asks for its number.
    case needleSingle = "niah-single"
    /// Several needles with different keys (RULER's multikey); the question asks for one.
    case needleMulti = "niah-multi"
    /// Perplexity and mean NLL of the real text, and next-token KL divergence against dense.
    case perplexity = "ppl"

    public var isNeedle: Bool { self != .perplexity }

    /// Needles in a prompt: the asked one plus distractors with other keys.
    public var needleCount: Int {
        switch self {
        case .needleSingle: return 1
        case .needleMulti: return 4
        case .perplexity: return 0
        }
    }

    public static func < (a: EvaluationTask, b: EvaluationTask) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
