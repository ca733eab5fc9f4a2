import Engine
import KVMemory
import Server
import Foundation
import Tokenization

/// What the fake engine does for one request.
struct FakeScript: Sendable {
    /// The text generated (one event per character; its bytes are its tokens).
    var reply = "Hello, world!"
    /// Seconds before the first token (prompt processing).
    var prefillDelay = 0.0
    /// Seconds between tokens.
    var tokenDelay = 0.0
    /// `.progress` events spread over the prefill (only when the request asks for progress).
    var progressSteps = 0
    /// Emit `.failed(.internalError)` after this many characters.
    var failAfterCharacters: Int? = nil
    /// Thrown synchronously from `submit`.
    var submitError: EngineError? = nil
    /// Reported as prefix-cache reuse.
    var cachedTokens = 0
}

extension FakeScript {
    /// Acts like a model that calls tools: when the prompt (rendered by `SimpleChatRenderer`)
    /// lists tools and its last message is not a tool result, the reply calls the first tool in
    /// Qwen2.5's syntax with `arguments` (JSON object text); after a tool result it answers in
    /// words; without tools it answers `FakeScript()`'s default.
    static func toolCaller(_ request: GenerationRequest, tokenizer: any Tokenizer, arguments: String = "{}") -> FakeScript {
        let prompt = tokenizer.decode(request.prompt)
        guard prompt.hasPrefix("<|im_start|>tools\n"), let nameStart = prompt.range(of: "\"name\": \"")?.upperBound,
              let nameEnd = prompt[nameStart...].firstIndex(of: "\"") else { return FakeScript() }
        let turns = prompt.components(separatedBy: "<|im_start|>")
        if turns.count >= 3, turns[turns.count - 2].hasPrefix("tool\n") {
            return FakeScript(reply: "The tool answered.")
        }
        return FakeScript(reply: "<tool_call>\n{\"name\": \"\(prompt[nameStart..<nameEnd])\", \"arguments\": \(arguments)}\n</tool_call>")
    }
}

/// A scripted `GenerationService`: deterministic text, logprobs, errors and delays on demand,
/// a bounded number of live requests (`queueCapacity`, then `.queueFull`), and a record of what
/// was submitted and cancelled. Generation runs on its own thread per request, as the real
/// engine's events arrive from another thread.
final class FakeGenerationService: GenerationService, @unchecked Sendable {
    let model: ModelDescription
    let tokenizer: any Tokenizer
    let chatTemplate: ChatTemplate?

    private let lock = NSLock()
    private var ready = true
    private var script: @Sendable (GenerationRequest) -> FakeScript
    private var submittedRequests: [GenerationRequest] = []
    private var cancelledIDs: [String] = []
    private var live = 0
    private var totalGenerated = 0
    private var textEmitTimes: [Double] = []
    let queueCapacity: Int

    init(contextLength: Int = 256, addBOS: Bool = false, queueCapacity: Int = 64, chatTemplate: ChatTemplate? = nil,
         script: @escaping @Sendable (GenerationRequest) -> FakeScript = { _ in FakeScript() }) {
        self.chatTemplate = chatTemplate
        model = ModelDescription(id: "fake-model", path: "/models/fake-model.gguf", architecture: "llama",
                                 parameterCount: 1_234_567, quantization: "Q8_0", contextLength: contextLength,
                                 vocabularySize: 261, fileBytes: 4096)
        tokenizer = FakeTokenizer(addBOS: addBOS)
        self.queueCapacity = queueCapacity
        self.script = script
    }

    var isReady: Bool {
        get { lock.withLock { ready } }
        set { lock.withLock { ready = newValue } }
    }

    func setScript(_ script: @escaping @Sendable (GenerationRequest) -> FakeScript) { lock.withLock { self.script = script } }

    var submitted: [GenerationRequest] { lock.withLock { submittedRequests } }
    var cancelled: [String] { lock.withLock { cancelledIDs } }
    var liveCount: Int { lock.withLock { live } }
    /// When each `.text` event was emitted (monotonic seconds), for latency measurements.
    var emitTimes: [Double] { lock.withLock { textEmitTimes } }

    func submit(_ request: GenerationRequest) throws(EngineError) -> GenerationHandle {
        let plan = lock.withLock { script(request) }
        if let error = plan.submitError { throw error }
        if let maxTokens = request.maxTokens, request.prompt.count + maxTokens > model.contextLength {
            throw .contextLengthExceeded(promptTokens: request.prompt.count, requestedTokens: maxTokens,
                                         contextLength: model.contextLength)
        }
        let admitted = lock.withLock { () -> Bool in
            guard live < queueCapacity else { return false }
            live += 1
            submittedRequests.append(request)
            return true
        }
        guard admitted else { throw .queueFull(capacity: queueCapacity) }
        let id = request.id
        let handle = GenerationHandle(requestID: id) { [weak self] in
            self?.lock.withLock { self?.cancelledIDs.append(id) }
        }
        let thread = Thread { [self] in
            let last = run(request, plan: plan, handle: handle)
            lock.withLock { live -= 1 }
            handle.emit(last)
        }
        thread.stackSize = 512 * 1024
        thread.start()
        return handle
    }

    /// The fake's deterministic logprob of the i-th generated token.
    static func logprob(_ index: Int) -> Float { -0.125 * Float(index + 1) }

    /// Emits everything but the terminal event, which it returns.
    private func run(_ request: GenerationRequest, plan: FakeScript, handle: GenerationHandle) -> GenerationEvent {
        var usage = GenerationUsage()
        usage.promptTokens = request.prompt.count
        usage.cachedTokens = plan.cachedTokens
        if let attention = request.attention, !attention.isDense {
            // A sparse policy skips a fixed share of the fake's attention work.
            usage.attentionPolicy = attention.kind.rawValue
            usage.attentionPairsDense = 100 * request.prompt.count
            usage.attentionPairsComputed = 60 * request.prompt.count
        }
        if let compression = request.kvCompression, !compression.isNone {
            // Compression holds a quarter of the fake's KV.
            usage.kvCompressionPolicy = compression.kind.rawValue
            usage.kvCompressionBudget = compression.budget
            usage.kvBytesUncompressed = 1024 * request.prompt.count
            usage.kvBytes = 256 * request.prompt.count
            usage.kvCompressions = 2
        }
        if request.returnProgress, plan.progressSteps > 0 {
            for step in 1...plan.progressSteps {
                if !sleep(plan.prefillDelay / Double(plan.progressSteps), handle) { return finishCancelled(handle, usage) }
                handle.emit(.progress(PromptProgress(total: request.prompt.count, cached: plan.cachedTokens,
                                                     processed: request.prompt.count * step / plan.progressSteps,
                                                     elapsedMilliseconds: Double(step) * 10)))
            }
        } else if !sleep(plan.prefillDelay, handle) {
            return finishCancelled(handle, usage)
        }
        if let k = request.promptLogprobs {
            var entries: [TokenLogprob?] = [nil]
            for index in request.prompt.indices.dropFirst() {
                var top: [(token: Int32, logprob: Float)] = []
                for rank in 0..<k { top.append((Int32(10 + rank), -0.5 * Float(rank + 1))) }
                entries.append(TokenLogprob(token: request.prompt[index], logprob: -Float(index), top: top))
            }
            handle.emit(.promptLogprobs(entries))
        }
        var reply = plan.reply
        if request.sampling.temperature > 0, let seed = request.sampling.seed { reply += " #\(seed)" }
        var text = ""
        var generated = 0
        var reason = FinishReason.stop
        for (position, character) in reply.enumerated() {
            if let failAfter = plan.failAfterCharacters, position == failAfter {
                return .failed(.internalError("scripted failure"))
            }
            let tokens = character.utf8.map { Int32($0) + FakeTokenizer.byteOffset }
            if let maxTokens = request.maxTokens, generated + tokens.count > maxTokens {
                reason = .length
                break
            }
            if position > 0, !sleep(plan.tokenDelay, handle) { return finishCancelled(handle, usage) }
            if handle.isCancelled { return finishCancelled(handle, usage) }
            text.append(character)
            if let stop = request.stop.first(where: { text.hasSuffix($0) }) {
                _ = stop
                reason = .stop
                break
            }
            var logprobs: [TokenLogprob] = []
            if let k = request.logprobs {
                for (offset, token) in tokens.enumerated() {
                    let value = Self.logprob(generated + offset)
                    var top: [(token: Int32, logprob: Float)] = []
                    for rank in 0..<k { top.append((token + Int32(rank) + 1, value - Float(rank + 1))) }
                    logprobs.append(TokenLogprob(token: token, logprob: value, top: top))
                }
            }
            generated += tokens.count
            usage.completionTokens = generated
            lock.withLock {
                totalGenerated += tokens.count
                textEmitTimes.append(MonotonicClock.now())
            }
            handle.emit(.text(String(character), tokens: tokens, logprobs: logprobs))
        }
        if request.maxTokens == 0 { reason = .length }
        usage.completionTokens = generated
        return .finished(reason, usage)
    }

    private func finishCancelled(_ handle: GenerationHandle, _ usage: GenerationUsage) -> GenerationEvent {
        .finished(.cancelled, usage)
    }

    /// Sleeps in small steps; false when the handle was cancelled meanwhile.
    private func sleep(_ seconds: Double, _ handle: GenerationHandle) -> Bool {
        var left = seconds
        while left > 0 {
            if handle.isCancelled { return false }
            let step = min(left, 0.01)
            usleep(UInt32(step * 1_000_000))
            left -= step
        }
        return !handle.isCancelled
    }

    func metrics() -> EngineMetrics {
        var metrics = EngineMetrics()
        lock.withLock {
            metrics.requestsRunning = live
            metrics.generationTokensTotal = totalGenerated
            metrics.promptTokensTotal = submittedRequests.reduce(0) { $0 + $1.prompt.count }
        }
        metrics.kvBlocksTotal = 100
        metrics.kvBlocksUsed = 25
        metrics.prefixCacheQueriesTotal = 10
        metrics.prefixCacheHitsTotal = 4
        return metrics
    }

    func sessions() -> [SessionSnapshot] {
        lock.withLock {
            live > 0 ? [SessionSnapshot(requestID: submittedRequests.last?.id ?? "", state: "running", promptTokens: 12,
                                        processedPromptTokens: 12, generatedTokens: 3, kvBytes: 4096,
                                        kvBytesUncompressed: 16384, kvCompression: "entropy", kvCompressions: 1)] : []
        }
    }
}
