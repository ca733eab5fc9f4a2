import KVMemory

/// Everything one `entropyinfer eval --kv-compression` run does: each task sample runs once
/// with the uncompressed cache (`none`, the reference) and once per compression policy, all in
/// lockstep over one shared prefill (`CompressedDecoder`).
public struct CompressionPlan: Sendable {
    public var modelPath: String
    public var threadCount: Int
    /// Policies compared with the uncompressed cache (`none` is always run first).
    public var policies: [KVCompressionPolicy]
    public var contexts: [Int]
    public var tasks: [CompressionTask]
    public var haystacks: [Haystack.Kind]
    public var depths: [Double]
    public var samples: Int
    /// decode-kl: windows per context, and the forced continuation tokens scored in each.
    public var windows: Int
    public var continuationTokens: Int
    public var seed: UInt64
    public var corpusDirectory: String

    public init(modelPath: String, threadCount: Int, policies: [KVCompressionPolicy], contexts: [Int],
                tasks: [CompressionTask], haystacks: [Haystack.Kind] = [.text], depths: [Double] = [0.1, 0.5, 0.9],
                samples: Int = 1, windows: Int = 1, continuationTokens: Int = 256, seed: UInt64 = 0,
                corpusDirectory: String = LicenseCorpus.defaultDirectory) {
        self.modelPath = modelPath; self.threadCount = threadCount; self.policies = policies; self.contexts = contexts
        self.tasks = tasks; self.haystacks = haystacks; self.depths = depths; self.samples = samples
        self.windows = windows; self.continuationTokens = continuationTokens; self.seed = seed
        self.corpusDirectory = corpusDirectory
    }

    /// The policies each sample runs: `none` first (the reference), then the plan's others.
    public var runPolicies: [KVCompressionPolicy] { [.none] + policies.filter { !$0.isNone } }

    public func validate() throws(EvaluationError) {
        guard !policies.filter({ !$0.isNone }).isEmpty else {
            throw .invalidOption("--kv-compression names no policy to compare with the uncompressed cache, e.g. entropy:1024,snapkv:1024")
        }
        guard !contexts.isEmpty, contexts.allSatisfy({ $0 >= 256 }) else {
            throw .invalidOption("--context needs token counts of at least 256 for KV compression tasks")
        }
        guard !tasks.isEmpty else { throw .invalidOption("--tasks names no task") }
        guard depths.allSatisfy({ (0...1).contains($0) }), !depths.isEmpty else {
            throw .invalidOption("--depths are percentages from 0 to 100, e.g. 10,50,90")
        }
        guard samples > 0, windows > 0, continuationTokens > 0 else {
            throw .invalidOption("--samples, --windows and --continuation-tokens must be positive")
        }
        if let context = contexts.first(where: { $0 <= continuationTokens + 64 }), tasks.contains(.decodeKL) {
            throw .invalidOption("--context \(context) leaves no prompt before decode-kl's \(continuationTokens) continuation tokens")
        }
        if tasks.contains(where: \.isNeedle) && haystacks.isEmpty {
            throw .invalidOption("--haystacks names no haystack (noise, text)")
        }
    }

    /// Generated prompts per context (each runs every policy in one lockstep pass).
    public var sampleCountPerContext: Int {
        tasks.filter(\.isNeedle).count * haystacks.count * depths.count * samples + (tasks.contains(.decodeKL) ? windows : 0)
    }
}
