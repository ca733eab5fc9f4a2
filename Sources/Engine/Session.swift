import Attention
import Foundation
import Grammar
import KVMemory
import Sampling
import Tokenization

/// One request inside the engine: its token sequence, cache, sampler and output state.
/// Owned by the engine thread.
final class Session {
    enum State { case waiting, running, finished }

    let request: GenerationRequest
    let handle: GenerationHandle
    var state = State.waiting
    /// Prompt then generated tokens. Tokens [0, processedCount) have KV in `kv`.
    var tokens: [Int32]
    let promptCount: Int
    var kv: KVSequence?
    /// Tokens with KV in the cache (`kv.positionCount`, 0 without a cache).
    var processedCount: Int { kv?.positionCount ?? 0 }
    /// Tokens still to run through the model before the next token can be sampled.
    var unprocessedCount: Int { tokens.count - processedCount }
    var generatedCount: Int { tokens.count - promptCount }
    /// Generated tokens at most (the request's limit or what the context leaves).
    let generationLimit: Int

    let sampler: Sampler
    /// Grammar-constrained requests: the grammar state (created on the engine thread at the first
    /// sampled token, advanced by every generated token, untouched by preemption: generated
    /// tokens are kept and only recomputed) and the mask buffer it fills at each step.
    var grammarMatcher: GrammarMatcher?
    var tokenMask: TokenMask?
    var detokenizer: StreamingDetokenizer
    var stopFilter: StopStringFilter
    /// Tokens sampled but not yet reported with a text piece (their text is held back).
    var unreportedTokens: [Int32] = []
    var unreportedLogprobs: [TokenLogprob] = []
    /// Prompt logprobs gathered during the first pass over the prompt (echo).
    var promptLogprobs: [TokenLogprob?] = []
    var promptLogprobsDone = false

    /// Prefix caching: the namespace of this session's KV (how it was computed) and where its
    /// sequence ends in the prefix cache. Sessions that need prompt logprobs or opted out
    /// (`cache_prompt: false`) neither reuse nor publish.
    let cacheNamespace: String
    /// `reference` decides on the whole prompt at once, so it never starts from a cached prefix.
    var usesPrefixCache: Bool { request.cachePrompt && request.promptLogprobs == nil && attention.kind != .reference }
    /// Prefill attention policy (resolved from the request and the engine's default).
    let attention: AttentionPolicy
    /// KV compression policy (resolved from the request and the engine's default) and its state,
    /// created at the first admission (it owns the observation window).
    let compression: KVCompressionPolicy
    var compressor: KVCompressor?
    /// Attention work of this session's forward passes (query-key pairs per query head).
    var attentionWork = AttentionWork()
    var cacheCursor: PrefixCache.Cursor?

    // Accounting.
    /// Prompt tokens whose KV came from the prefix cache at the last admission.
    var cachedTokens = 0
    let submittedAt = Date()
    var admittedAt: Date?
    var firstTokenAt: Date?
    var lastTokenAt: Date?
    var preemptions = 0

    init(request: GenerationRequest, handle: GenerationHandle, tokenizer: any Tokenizer, vocabularySize: Int,
         contextLength: Int, kvNamespace: String, attention: AttentionPolicy = .dense,
         compression: KVCompressionPolicy = .none) {
        self.request = request
        self.attention = attention
        self.compression = compression
        // Dense and sparse KV (and different knobs) never share cached prefixes.
        cacheNamespace = kvNamespace + "|attention=" + attention.cacheKey + "|salt=" + (request.cacheSalt ?? "")
        self.handle = handle
        tokens = request.prompt
        promptCount = request.prompt.count
        let room = contextLength - request.prompt.count
        generationLimit = min(request.maxTokens ?? room, room)
        var endOfGeneration = tokenizer.specialTokens.endOfGeneration
        endOfGeneration.formUnion(request.stopTokenIDs)
        sampler = Sampler(parameters: request.sampling, vocabularySize: vocabularySize, promptTokens: request.prompt,
                          endOfGenerationTokens: request.ignoreEOS ? request.stopTokenIDs : endOfGeneration,
                          minTokens: request.minTokens)
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecial: true)
        stopFilter = StopStringFilter(stops: request.stop)
        promptLogprobsDone = request.promptLogprobs == nil
        if !promptLogprobsDone { promptLogprobs = [nil] }
    }

    /// Prefill runs attend densely from here on (the prompt's last segment when the policy keeps
    /// it dense).
    var denseFromPosition: Int { attention.denseFromPosition(promptTokens: promptCount) }

    var snapshot: SessionSnapshot {
        SessionSnapshot(requestID: request.id, state: state == .running ? (processedCount < promptCount ? "prefill" : "decode") : "waiting",
                        promptTokens: promptCount, processedPromptTokens: min(processedCount, promptCount),
                        generatedTokens: generatedCount, kvBytes: kv?.heldBytes ?? 0,
                        kvBytesUncompressed: kv?.uncompressedBytes ?? 0, kvCompression: compression.kind.rawValue,
                        kvCompressions: compressor?.statistics.compressions ?? 0)
    }
}
