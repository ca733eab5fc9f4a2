import Attention
import Grammar
import KVMemory
import Sampling

/// One generation job as the engine sees it: token ids in, tokens out. Built by the server (or the
/// CLI) after validation and templating; the engine never sees JSON.
public struct GenerationRequest: Sendable {
    /// Identifier used in logs, metrics and `/slots` (e.g. "chatcmpl-…").
    public var id: String
    /// Prompt token ids (already templated and tokenized).
    public var prompt: [Int32]
    public var sampling: SamplingParameters
    /// Generated tokens at most; nil means until the context is full.
    public var maxTokens: Int?
    /// End-of-generation tokens and stop strings are ignored until this many tokens exist.
    public var minTokens: Int = 0
    /// Keep generating through end-of-generation tokens (benchmarks).
    public var ignoreEOS: Bool = false
    /// Strings that end generation; they are never part of the output text.
    public var stop: [String] = []
    /// Additional token ids that end generation (returned with finish reason `stop`).
    public var stopTokenIDs: Set<Int32> = []
    /// nil: no logprobs. k ≥ 0: the chosen token's logprob plus the k most likely alternatives.
    public var logprobs: Int? = nil
    /// nil: none. k ≥ 0: logprobs of every prompt token (from the second on) plus k alternatives,
    /// as `/v1/completions` `echo` + `logprobs` needs. Always computed, never taken from a cache.
    public var promptLogprobs: Int? = nil
    /// Reuse KV of an already computed prompt prefix (OpenAI clients leave it on).
    public var cachePrompt: Bool = true
    /// Tenants with different salts never share cached prefixes.
    public var cacheSalt: String? = nil
    /// Emit `.progress` events while the prompt is processed.
    public var returnProgress: Bool = false
    /// Prefill attention policy; nil uses the engine's configured default.
    public var attention: AttentionPolicy? = nil
    /// Constrains the output to this grammar (JSON mode, a JSON Schema, GBNF): every token is
    /// sampled among those that keep the output a prefix of a sentence of the grammar; end of
    /// generation comes only once the output is complete, and generation stops (`stop`) as soon
    /// as nothing more can follow. Stop strings still apply and may cut the output short.
    public var grammar: Grammar? = nil

    /// KV compression policy during decoding; nil uses the engine's configured default.
    public var kvCompression: KVCompressionPolicy? = nil

    public init(id: String, prompt: [Int32], sampling: SamplingParameters = SamplingParameters()) {
        self.id = id
        self.prompt = prompt
        self.sampling = sampling
    }
}

/// Why a generation ended.
public enum FinishReason: String, Sendable {
    /// An end-of-generation token, a stop token id or a stop string.
    case stop
    /// `maxTokens` reached or the context is full.
    case length
    /// The client went away or the request was cancelled.
    case cancelled
}

/// Log-probability of one token and its most likely alternatives.
public struct TokenLogprob: Sendable, Equatable {
    public var token: Int32
    /// Natural log of the token's probability under the model's full distribution (before
    /// sampling filters, as OpenAI reports it).
    public var logprob: Float
    /// Up to k alternatives, most likely first.
    public var top: [(token: Int32, logprob: Float)]

    public init(token: Int32, logprob: Float, top: [(token: Int32, logprob: Float)] = []) {
        self.token = token; self.logprob = logprob; self.top = top
    }

    public static func == (a: TokenLogprob, b: TokenLogprob) -> Bool {
        a.token == b.token && a.logprob == b.logprob && a.top.map(\.token) == b.top.map(\.token)
            && a.top.map(\.logprob) == b.top.map(\.logprob)
    }
}

/// Prompt-processing progress (llama.cpp's `prompt_progress` shape).
public struct PromptProgress: Sendable, Equatable {
    public var total: Int
    /// Tokens reused from the prefix cache.
    public var cached: Int
    /// Tokens done so far (cached included).
    public var processed: Int
    public var elapsedMilliseconds: Double

    public init(total: Int, cached: Int, processed: Int, elapsedMilliseconds: Double) {
        self.total = total; self.cached = cached; self.processed = processed; self.elapsedMilliseconds = elapsedMilliseconds
    }
}

/// Token counts and timings of a finished generation.
public struct GenerationUsage: Sendable, Equatable {
    public var promptTokens: Int = 0
    /// Prompt tokens whose KV came from the prefix cache.
    public var cachedTokens: Int = 0
    public var completionTokens: Int = 0
    public var queueMilliseconds: Double = 0
    public var promptMilliseconds: Double = 0
    public var generationMilliseconds: Double = 0
    /// Prefill attention policy the request ran under ("dense", "entropy", ...).
    public var attentionPolicy = "dense"
    /// Query-key pairs attention computed (per query head, over layers), and what dense
    /// attention would have computed for the same tokens.
    public var attentionPairsComputed = 0
    public var attentionPairsDense = 0
    /// KV compression the request ran under ("none", "entropy", ...) and its mean budget.
    public var kvCompressionPolicy = "none"
    public var kvCompressionBudget = 0
    /// KV bytes the session held when it ended, and what the same positions hold uncompressed.
    public var kvBytes = 0
    public var kvBytesUncompressed = 0
    /// The most KV bytes held after the first compression round (0 if none ran).
    public var kvBytesLargestAfterCompression = 0
    /// Compression rounds and the entries they evicted.
    public var kvCompressions = 0
    public var kvEntriesEvicted = 0

    public init() {}
}

/// What a running generation reports, in order: optional progress, optional prompt logprobs,
/// any number of text pieces, then exactly one `.finished` or `.failed`.
public enum GenerationEvent: Sendable {
    case progress(PromptProgress)
    /// One entry per prompt token; the first is nil (nothing predicts it).
    case promptLogprobs([TokenLogprob?])
    /// The next piece of output text (never empty, valid UTF-8, stop strings removed) and the
    /// tokens that produced it with their logprobs when requested. Tokens whose text is held back
    /// (a possible stop-string prefix or an incomplete UTF-8 sequence) appear in a later piece.
    case text(String, tokens: [Int32], logprobs: [TokenLogprob])
    case finished(FinishReason, GenerationUsage)
    case failed(EngineError)
}

/// Errors the engine reports; the server maps each to an HTTP status.
public enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The prompt (plus an explicit max_tokens) does not fit the context.
    case contextLengthExceeded(promptTokens: Int, requestedTokens: Int?, contextLength: Int)
    /// The request could never fit the configured KV memory, even alone.
    case exceedsKVMemory(requiredBytes: Int, budgetBytes: Int)
    /// Too many requests are waiting.
    case queueFull(capacity: Int)
    case invalidRequest(String)
    /// The engine is shutting down.
    case shuttingDown
    case internalError(String)

    public var description: String {
        switch self {
        case .contextLengthExceeded(let prompt, let requested, let context):
            if let requested {
                return "This model's maximum context length is \(context) tokens. However, you requested \(prompt + requested) tokens (\(prompt) in the prompt, \(requested) for the completion). Please reduce the prompt or the completion length."
            }
            return "This model's maximum context length is \(context) tokens. However, your prompt has \(prompt) tokens. Please reduce the length of the prompt."
        case .exceedsKVMemory(let required, let budget):
            return "This request needs \(required) bytes of KV cache but the server's KV memory is \(budget) bytes; shorten the request or raise --kv-memory."
        case .queueFull(let capacity):
            return "The server is busy: \(capacity) requests are already waiting. Retry later."
        case .invalidRequest(let message):
            return message
        case .shuttingDown:
            return "The server is shutting down."
        case .internalError(let message):
            return "Internal error: \(message)"
        }
    }
}
