import Tokenization

/// Facts about the loaded model that clients see (`/v1/models`, usage accounting, limits).
public struct ModelDescription: Sendable, Equatable {
    /// The served name: the file stem or catalog name unless an alias is configured.
    public var id: String
    /// Extra names the model answers to (from config).
    public var aliases: [String]
    public var path: String
    /// GGUF `general.architecture` (e.g. "llama", "qwen2").
    public var architecture: String
    public var parameterCount: Int
    /// The file's dominant quantization, e.g. "Q4_1" or "Q4_K_M".
    public var quantization: String
    public var contextLength: Int
    public var vocabularySize: Int
    public var fileBytes: Int

    public init(id: String, aliases: [String] = [], path: String, architecture: String, parameterCount: Int,
                quantization: String, contextLength: Int, vocabularySize: Int, fileBytes: Int) {
        self.id = id; self.aliases = aliases; self.path = path; self.architecture = architecture
        self.parameterCount = parameterCount; self.quantization = quantization
        self.contextLength = contextLength; self.vocabularySize = vocabularySize; self.fileBytes = fileBytes
    }

    /// Every name a request may use in its `model` field.
    public var servedNames: [String] { [id] + aliases }
}

/// Counters and gauges the engine exposes; the server renders them as Prometheus text.
public struct EngineMetrics: Sendable {
    public var requestsRunning = 0
    /// Of the running requests, those past their prompt (generating; their whole prompt's KV,
    /// or what compression kept of it, is resident).
    public var requestsDecoding = 0
    public var requestsWaiting = 0
    public var promptTokensTotal = 0
    public var generationTokensTotal = 0
    public var prefixCacheQueriesTotal = 0
    public var prefixCacheHitsTotal = 0
    public var preemptionsTotal = 0
    public var kvBlocksUsed = 0
    /// Of the used blocks, those the prefix cache holds for reuse (freed when memory is needed).
    public var kvBlocksCached = 0
    public var kvBlocksTotal = 0
    public var kvBytesUsed = 0
    public var kvBytesTotal = 0
    /// KV bytes running and waiting sessions hold, and what their positions would hold uncompressed.
    public var kvSessionBytes = 0
    public var kvSessionBytesUncompressed = 0
    /// KV compression rounds run and entries they evicted, since start.
    public var kvCompressionsTotal = 0
    public var kvCompressionEvictedEntriesTotal = 0
    /// Wall time of those rounds, seconds (each pauses its session's decode step).
    public var kvCompressionSecondsTotal = 0.0
    /// Attention work in query-key pairs (per query head, over layers): what dense attention
    /// would compute for every processed token, and how much of it sparse prefill skipped.
    public var attentionPairsSkippedTotal = 0
    public var attentionPairsTotal = 0
    public var stepsTotal = 0
    public var stepTokensTotal = 0
    /// Per-step distributions (tokens in the step; sessions in the step) over `stepBucketBounds`:
    /// counts per bucket (upper bounds inclusive), then the overflow bucket.
    public var stepTokenBuckets = [Int](repeating: 0, count: EngineMetrics.stepBucketBounds.count + 1)
    public var stepSessionBuckets = [Int](repeating: 0, count: EngineMetrics.stepBucketBounds.count + 1)
    public var stepSessionsTotal = 0

    /// vLLM's iteration-tokens buckets (1-2-5 series).
    public static let stepBucketBounds: [Int] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]

    public init() {}

    mutating func recordStep(tokens: Int, sessions: Int) {
        stepsTotal += 1
        stepTokensTotal += tokens
        stepSessionsTotal += sessions
        stepTokenBuckets[Self.stepBucketBounds.firstIndex { tokens <= $0 } ?? Self.stepBucketBounds.count] += 1
        stepSessionBuckets[Self.stepBucketBounds.firstIndex { sessions <= $0 } ?? Self.stepBucketBounds.count] += 1
    }
}

/// Introspection of one running or waiting session (`GET /slots`); never contains prompt text.
public struct SessionSnapshot: Sendable {
    public var requestID: String
    public var state: String
    public var promptTokens: Int
    public var processedPromptTokens: Int
    public var generatedTokens: Int
    /// KV bytes the session holds (shared prefix blocks counted in full).
    public var kvBytes: Int
    /// What its cached positions would hold uncompressed.
    public var kvBytesUncompressed: Int
    /// Its KV compression policy ("none" when uncompressed) and compression rounds so far.
    public var kvCompression: String
    public var kvCompressions: Int

    public init(requestID: String, state: String, promptTokens: Int, processedPromptTokens: Int,
                generatedTokens: Int, kvBytes: Int, kvBytesUncompressed: Int? = nil, kvCompression: String = "none",
                kvCompressions: Int = 0) {
        self.requestID = requestID; self.state = state; self.promptTokens = promptTokens
        self.processedPromptTokens = processedPromptTokens; self.generatedTokens = generatedTokens
        self.kvBytes = kvBytes
        self.kvBytesUncompressed = kvBytesUncompressed ?? kvBytes
        self.kvCompression = kvCompression
        self.kvCompressions = kvCompressions
    }
}

/// What the HTTP server needs from the engine. The real implementation is `InferenceEngine`;
/// tests of routes use a scripted fake.
public protocol GenerationService: AnyObject, Sendable {
    var model: ModelDescription { get }
    var tokenizer: any Tokenizer { get }
    /// The model's own chat template (GGUF `tokenizer.chat_template`), if it has one.
    var chatTemplate: ChatTemplate? { get }
    /// False while the model loads.
    var isReady: Bool { get }

    /// Queues a request. Throws at once for requests that can never run (context or KV budget
    /// exceeded) and when the queue is full; otherwise events arrive on the handle.
    func submit(_ request: GenerationRequest) throws(EngineError) -> GenerationHandle

    func metrics() -> EngineMetrics
    func sessions() -> [SessionSnapshot]
}
