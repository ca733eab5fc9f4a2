import Attention

/// Everything one `entropyinfer eval` run does.
public struct EvaluationPlan: Sendable {
    public var modelPath: String
    public var threadCount: Int
    public var policies: [AttentionPolicy]
    /// Prompt lengths in tokens (needle prompts fill them; ppl windows are this long).
    public var contexts: [Int]
    public var tasks: [EvaluationTask]
    public var haystacks: [Haystack.Kind]
    /// Depths of the asked needle, fractions in [0, 1].
    public var depths: [Double]
    /// Needle samples per (context, task, haystack, depth).
    public var samples: Int
    /// ppl windows per context (fewer when the text is shorter).
    public var windows: Int
    /// Positions scored per ppl window.
    public var scoredPositions: Int
    public var seed: UInt64
    public var corpusDirectory: String
    public var maxAnswerTokens: Int

    public init(modelPath: String, threadCount: Int, policies: [AttentionPolicy], contexts: [Int],
                tasks: [EvaluationTask], haystacks: [Haystack.Kind] = Haystack.Kind.allCases,
                depths: [Double] = [0.1, 0.5, 0.9], samples: Int = 1, windows: Int = 1, scoredPositions: Int = 256,
                seed: UInt64 = 0, corpusDirectory: String = LicenseCorpus.defaultDirectory, maxAnswerTokens: Int = 12) {
        self.modelPath = modelPath; self.threadCount = threadCount; self.policies = policies; self.contexts = contexts
        self.tasks = tasks; self.haystacks = haystacks; self.depths = depths; self.samples = samples
        self.windows = windows; self.scoredPositions = scoredPositions; self.seed = seed
        self.corpusDirectory = corpusDirectory; self.maxAnswerTokens = maxAnswerTokens
    }

    /// Checks the plan before a model is loaded.
    public func validate() throws(EvaluationError) {
        guard !policies.isEmpty else { throw .invalidOption("--policies names no policy") }
        guard !contexts.isEmpty, contexts.allSatisfy({ $0 >= 64 }) else {
            throw .invalidOption("--context needs token counts of at least 64, e.g. 4096,8192")
        }
        guard !tasks.isEmpty else { throw .invalidOption("--tasks names no task") }
        guard depths.allSatisfy({ (0...1).contains($0) }), !depths.isEmpty else {
            throw .invalidOption("--depths are percentages from 0 to 100, e.g. 10,50,90")
        }
        guard samples > 0, windows > 0, scoredPositions > 0, maxAnswerTokens > 0 else {
            throw .invalidOption("--samples, --windows, --scored-positions and the answer length must be positive")
        }
        if tasks.contains(.perplexityAtPromptEnd), let reference = policies.first(where: { $0.kind == .reference }) {
            throw .invalidOption(PerplexityEvaluator.referenceAtPromptEnd(reference))
        }
        if tasks.contains(where: \.isNeedle) && haystacks.isEmpty {
            throw .invalidOption("--haystacks names no haystack (noise, text)")
        }
    }

    /// Needle prompts this plan generates (each runs once per policy).
    public var needleSampleCount: Int {
        contexts.count * tasks.filter(\.isNeedle).count * haystacks.count * depths.count * samples
    }

    /// Prefills of `context` tokens the plan runs per context length: every needle prompt once
    /// per policy; every ppl window once for the dense baseline and once per other policy
    /// (fewer windows when the text is short).
    public var prefillsPerContext: (needle: Int, perplexity: Int) {
        let needle = needleSampleCount / max(1, contexts.count) * policies.count
        let perplexity = tasks.contains(where: \.isPerplexity) ? windows * (1 + policies.filter { $0 != .dense }.count) : 0
        return (needle, perplexity)
    }
}
