import Attention
import Foundation
import GGUF
import Grammar
import Kernels
import KVMemory
import Models
import Sampling
import Tokenization

/// The engine: one thread owns the model, the KV pool and every session, and runs steps of
/// continuous batching (see `Scheduler`). Other threads only submit requests and read events.
public final class InferenceEngine: GenerationService, @unchecked Sendable {
    public let model: ModelDescription
    public let tokenizer: any Tokenizer
    public let chatTemplate: ChatTemplate?
    public let configuration: EngineConfiguration
    public var isReady: Bool { true }

    let network: Model
    let pool: KVBlockPool
    let prefixCache: PrefixCache
    /// Everything that changes how KV is computed, part of every prefix-cache key.
    private let kvNamespace: String
    private let scheduler: Scheduler
    private let contextLength: Int

    // Shared with submitting threads (guarded by `lock`).
    private let lock = NSCondition()
    private var incoming: [Session] = []
    private var queuedCount = 0
    private var stopping = false
    private var statistics = EngineMetrics()
    private var snapshots: [SessionSnapshot] = []
    private var thread: Thread?
    private var threadDone = false

    // Engine-thread state.
    private var logits: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    private var logitCapacity = 0
    /// A copy of one raw logits row, for logprobs.
    private var rawRow: UnsafeMutablePointer<Float> = .allocate(capacity: 1)
    private var rawRowCapacity = 0
    /// The vocabulary's byte trie for grammar-constrained requests, built by the thread that
    /// submits the first one (so the engine thread never pauses for it), guarded by `trieLock`.
    private var tokenTrie: TokenTrie?
    private let trieLock = NSLock()
    /// Grammar automata and masks of recent grammars, shared by requests with the same grammar
    /// text and end tokens (engine thread only), most recently used last.
    private var grammarTables: [(key: String, tables: GrammarTables)] = []
    /// Grammars whose tables are kept (each holds at most `GrammarTables.maskCapacity` masks).
    static let keptGrammarTables = 8

    public init(configuration: EngineConfiguration) throws {
        self.configuration = configuration
        let file = try GGUFFile(path: configuration.modelPath)
        network = try Model(file: file, threads: ThreadPool(threadCount: max(1, configuration.threadCount)),
                            activationPrecision: configuration.activationPrecision)
        tokenizer = try makeTokenizer(from: file)
        if let source = file.value("tokenizer.chat_template")?.stringValue {
            chatTemplate = try? ChatTemplate(source: source)
        } else {
            chatTemplate = nil
        }
        let config = network.config
        contextLength = min(configuration.contextLength ?? config.contextLength, config.contextLength)
        let layout = network.kvLayout(dataType: configuration.kvDataType)
        let fullContextBytes = contextLength * layout.bytesPerToken * (layout.bytesPerBlock + layout.summaryBytesPerBlock) / layout.bytesPerBlock
        pool = try KVBlockPool(layout: layout, budgetBytes: configuration.kvMemoryBytes ?? min(4 * fullContextBytes, 8 << 30))
        prefixCache = PrefixCache(pool: pool)
        kvNamespace = "kv=\(configuration.kvDataType.rawValue)"
        scheduler = Scheduler(configuration: configuration.scheduler)
        let stem = URL(fileURLWithPath: configuration.modelPath).deletingPathExtension().lastPathComponent
        model = ModelDescription(
            id: configuration.modelID ?? stem, aliases: configuration.aliases, path: configuration.modelPath,
            architecture: config.architecture, parameterCount: Self.parameterCount(file),
            quantization: Self.quantizationName(file), contextLength: contextLength,
            vocabularySize: config.vocabularySize, fileBytes: file.file.byteCount)
        statistics.kvBlocksTotal = pool.blockCount
        statistics.kvBytesTotal = pool.totalBytes
        let engineThread = Thread { [unowned(unsafe) self] in self.run() }
        engineThread.name = "entropyinfer-engine"
        engineThread.stackSize = 8 << 20
        thread = engineThread
        engineThread.start()
    }

    deinit {
        shutdown()
        logits.deallocate()
        rawRow.deallocate()
    }

    /// Stops the engine thread: running requests end with `shuttingDown`.
    public func shutdown() {
        lock.lock()
        stopping = true
        lock.broadcast()
        while thread != nil && !threadDone { lock.wait() }
        lock.unlock()
    }

    // MARK: - GenerationService

    public func submit(_ request: GenerationRequest) throws(EngineError) -> GenerationHandle {
        let promptCount = request.prompt.count
        guard promptCount > 0 else { throw .invalidRequest("the prompt is empty") }
        if let invalid = request.prompt.first(where: { $0 < 0 || Int($0) >= network.config.vocabularySize }) {
            throw .invalidRequest("token id \(invalid) is outside the vocabulary (0..<\(network.config.vocabularySize))")
        }
        if promptCount + (request.maxTokens ?? 0) > contextLength || promptCount >= contextLength && (request.maxTokens ?? 1) > 0 {
            throw .contextLengthExceeded(promptTokens: promptCount, requestedTokens: request.maxTokens, contextLength: contextLength)
        }
        let neededTokens = promptCount + max(1, request.maxTokens ?? 1)
        let neededBlocks = (neededTokens + KVLayout.blockTokens - 1) / KVLayout.blockTokens * pool.layout.streamCount
        if neededBlocks > pool.blockCount {
            throw .exceedsKVMemory(requiredBytes: neededBlocks * pool.layout.bytesPerBlock, budgetBytes: pool.totalBytes)
        }
        let attention = resolvedAttention(for: request)
        if attention.kind == .reference && request.promptLogprobs != nil {
            throw .invalidRequest("the 'reference' attention policy runs the whole prompt in one pass and cannot return prompt logprobs (echo); use the 'entropy' or 'dense' policy")
        }
        if request.grammar != nil { _ = grammarTrie() }
        let compression = resolvedKVCompression(for: request)
        let handle = GenerationHandle(requestID: request.id) { [weak self] in self?.wake() }
        let session = Session(request: request, handle: handle, tokenizer: tokenizer,
                              vocabularySize: network.config.vocabularySize, contextLength: contextLength,
                              kvNamespace: kvNamespace, attention: attention, compression: compression)
        lock.lock()
        defer { lock.unlock() }
        if stopping { throw .shuttingDown }
        guard queuedCount < configuration.maxQueuedRequests else { throw .queueFull(capacity: configuration.maxQueuedRequests) }
        queuedCount += 1
        incoming.append(session)
        lock.broadcast()
        return handle
    }

    /// The request's own policy (any prompt length), else the configured default for prompts of
    /// at least its `minimumPromptTokens`, else dense.
    public func resolvedAttention(for request: GenerationRequest) -> AttentionPolicy {
        if let policy = request.attention { return policy }
        let fallback = configuration.defaultAttention
        return request.prompt.count >= fallback.minimumPromptTokens ? fallback : .dense
    }

    /// The request's own KV compression (any prompt length), else the configured default for
    /// prompts of at least its `minimumPromptTokens`, else none.
    public func resolvedKVCompression(for request: GenerationRequest) -> KVCompressionPolicy {
        if let policy = request.kvCompression { return policy }
        let fallback = configuration.defaultKVCompression
        return request.prompt.count >= fallback.minimumPromptTokens ? fallback : .none
    }

    public func metrics() -> EngineMetrics {
        lock.lock()
        defer { lock.unlock() }
        return statistics
    }

    public func sessions() -> [SessionSnapshot] {
        lock.lock()
        defer { lock.unlock() }
        return snapshots
    }

    private func wake() {
        lock.lock(); lock.broadcast(); lock.unlock()
    }

    // MARK: - The loop

    private func run() {
        while true {
            lock.lock()
            while incoming.isEmpty && scheduler.isIdle && !stopping { lock.wait() }
            let arrivals = incoming
            incoming.removeAll()
            let stop = stopping
            lock.unlock()

            for session in arrivals { scheduler.enqueue(session) }
            if stop {
                for session in scheduler.running + scheduler.waiting { fail(session, .shuttingDown) }
                break
            }
            dropCancelled()
            step()
            publishState()
        }
        lock.lock()
        threadDone = true
        lock.broadcast()
        lock.unlock()
    }

    private func dropCancelled() {
        for session in scheduler.running + scheduler.waiting where session.handle.isCancelled {
            finish(session, .cancelled)
        }
    }

    /// One step: plan, one forward pass for every scheduled token, then sampling and events.
    private func step() {
        let plan = scheduler.schedule(pool: pool, admit: admit, reclaim: { self.prefixCache.evict(untilFree: $0) })
        guard !plan.isEmpty else {
            // Nothing fits: the oldest session alone cannot grow; end it instead of waiting forever.
            if let oldest = scheduler.running.first {
                finish(oldest, .length)
            }
            return
        }
        let stepStart = Date()
        for chunk in plan where chunk.session.admittedAt == nil {
            // First admission: count the prefix-cache query (vLLM counts prompt tokens).
            let session = chunk.session
            session.admittedAt = stepStart
            if session.usesPrefixCache {
                lock.lock()
                statistics.prefixCacheQueriesTotal += session.promptCount
                statistics.prefixCacheHitsTotal += session.cachedTokens
                lock.unlock()
            }
        }

        var tokens: [Int32] = []
        var segments: [ForwardBatch.Segment] = []
        var logitRows: [Int] = []
        var firstLogitRow: [Int] = []     // per chunk: index into logitRows of its first row
        for chunk in plan {
            let session = chunk.session
            let start = session.processedCount
            let tokenStart = tokens.count
            tokens.append(contentsOf: session.tokens[start..<start + chunk.tokenCount])
            segments.append(ForwardBatch.Segment(kv: session.kv!, tokenStart: tokenStart, tokenCount: chunk.tokenCount,
                                                 attention: session.attention, denseFromPosition: session.denseFromPosition,
                                                 observation: session.compressor?.window))
            firstLogitRow.append(logitRows.count)
            for row in logitRowsWanted(session, start: start, count: chunk.tokenCount) {
                logitRows.append(tokenStart + row)
            }
        }
        let vocabulary = network.config.vocabularySize
        ensureLogits(rows: logitRows.count, vocabulary: vocabulary)
        let work = network.forward(ForwardBatch(tokens: tokens, segments: segments, logitRows: logitRows), logits: logits)
        var stepWork = AttentionWork()
        for (index, chunk) in plan.enumerated() {
            chunk.session.attentionWork += work[index]
            stepWork += work[index]
        }
        lock.lock()
        statistics.attentionPairsTotal += stepWork.pairsDense
        statistics.attentionPairsSkippedTotal += stepWork.pairsSkipped
        lock.unlock()

        for (index, chunk) in plan.enumerated() {
            let session = chunk.session
            let end = session.processedCount        // already advanced by the forward pass
            publishPrefix(of: session)
            compress(session)
            let start = end - chunk.tokenCount
            var row = firstLogitRow[index]
            let wanted = logitRowsWanted(session, start: start, count: chunk.tokenCount)
            for offset in wanted where start + offset + 1 < session.promptCount {
                // Row for position p scores prompt token p + 1 (echo logprobs).
                recordPromptLogprob(session, position: start + offset + 1, logits: logits + row * vocabulary)
                row += 1
            }
            if session.request.returnProgress && start < session.promptCount {
                session.handle.emit(.progress(PromptProgress(
                    total: session.promptCount, cached: session.cachedTokens, processed: min(end, session.promptCount),
                    elapsedMilliseconds: Date().timeIntervalSince(session.admittedAt ?? stepStart) * 1000)))
            }
            if end == session.tokens.count {
                if end >= session.promptCount && !session.promptLogprobsDone {
                    session.promptLogprobsDone = true
                    session.handle.emit(.promptLogprobs(session.promptLogprobs))
                }
                produceToken(session, logits: logits + row * vocabulary)
            }
        }
        lock.lock()
        statistics.recordStep(tokens: tokens.count, sessions: plan.count)
        lock.unlock()
    }

    /// Runs the session's KV compression after a forward pass (its freed blocks return to the
    /// pool at once) and counts what it did.
    private func compress(_ session: Session) {
        guard let compressor = session.compressor, let kv = session.kv else { return }
        let before = compressor.statistics
        guard compressor.afterForward(kv: kv, promptTokens: session.promptCount) else { return }
        let after = compressor.statistics
        lock.lock()
        statistics.kvCompressionsTotal += after.compressions - before.compressions
        statistics.kvCompressionEvictedEntriesTotal += after.entriesEvicted - before.entriesEvicted
        statistics.kvCompressionSecondsTotal += after.seconds - before.seconds
        lock.unlock()
    }

    /// Gives a session its cache, starting from the longest cached prefix of its tokens when it
    /// may reuse one (at least one token is always left to compute: its logits are needed; a
    /// session whose compression scores the cache computes at least its observation window).
    private func admit(_ session: Session) {
        let kv = session.kv ?? KVSequence(pool: pool)
        session.kv = kv
        session.cachedTokens = 0
        session.cacheCursor = nil
        if session.compressor == nil {
            session.compressor = network.makeCompressor(policy: session.compression)
            session.compressor?.reclaimBlocks = { [prefixCache] in prefixCache.evict(untilFree: $0) }
        }
        guard session.usesPrefixCache else { return }
        var maximumTokens = session.tokens.count - 1
        if session.compression.needsObservations {
            maximumTokens = session.tokens.count - session.compression.observedTokens
        }
        if !session.attention.isDense {
            // Resume on a segment boundary so every query segment is profiled whole.
            maximumTokens = maximumTokens / session.attention.segmentTokens * session.attention.segmentTokens
        }
        let found = prefixCache.lookup(session.tokens, namespace: session.cacheNamespace, maximumTokens: maximumTokens)
        kv.adopt(prefix: found.blocks)
        session.cacheCursor = found.cursor
        session.cachedTokens = min(found.cursor.tokenCount, session.promptCount)
    }

    /// Offers the session's newly completed 16-token blocks to the prefix cache.
    private func publishPrefix(of session: Session) {
        guard session.usesPrefixCache, let kv = session.kv,
              kv.positionCount / KVLayout.blockTokens > (session.cacheCursor?.tokenCount ?? 0) / KVLayout.blockTokens else { return }
        session.cacheCursor = prefixCache.extend(from: session.cacheCursor, namespace: session.cacheNamespace,
                                                 sequence: session.tokens, cache: kv)
    }

    /// Offsets within a chunk whose logits are needed: prompt-logprob rows, then the last row
    /// when the chunk reaches the end of the sequence (the next token is sampled from it).
    private func logitRowsWanted(_ session: Session, start: Int, count: Int) -> [Int] {
        var rows: [Int] = []
        if !session.promptLogprobsDone {
            // Positions whose logprob has not been recorded yet (a preempted session recomputes).
            for offset in 0..<count where start + offset + 1 < session.promptCount
                && start + offset + 1 >= session.promptLogprobs.count {
                rows.append(offset)
            }
        }
        if start + count == session.tokens.count { rows.append(count - 1) }
        return rows
    }

    private func recordPromptLogprob(_ session: Session, position: Int, logits row: UnsafePointer<Float>) {
        guard position == session.promptLogprobs.count, let k = session.request.promptLogprobs else { return }
        let result = Sampling.logprobs(of: row, count: network.config.vocabularySize, chosen: session.tokens[position], top: k)
        session.promptLogprobs.append(TokenLogprob(token: session.tokens[position], logprob: result.chosen, top: result.top))
    }

    /// Samples the next token from `row`, reports it and decides whether the session ends.
    private func produceToken(_ session: Session, logits row: UnsafeMutablePointer<Float>) {
        let request = session.request
        guard session.generatedCount < session.generationLimit else { finish(session, .length); return }
        let vocabulary = network.config.vocabularySize
        if request.grammar != nil {
            guard let matcher = grammarMatcher(for: session), !matcher.isTerminated else { finish(session, .stop); return }
            matcher.fillMask(&session.tokenMask!)
            guard session.tokenMask!.allowedCount > 0 else {
                fail(session, .invalidRequest("the grammar allows no token of this model's vocabulary after \(session.generatedCount) generated tokens; check that every character it requires can be produced"))
                return
            }
        }
        if request.logprobs != nil {
            // Logprobs describe the model's distribution before sampling filters (restricted to
            // what the grammar allows, for constrained requests); the sampler modifies the row
            // in place.
            ensureRawRow(vocabulary)
            rawRow.update(from: row, count: vocabulary)
            session.tokenMask?.apply(to: rawRow)
        }
        let token = session.sampler.sample(logits: row, mask: session.tokenMask)
        session.sampler.accept(token)
        if let matcher = session.grammarMatcher, !matcher.accept(token) {
            fail(session, .internalError("the sampled token \(token) is not allowed by the request's grammar"))
            return
        }
        var logprob: TokenLogprob?
        if let k = request.logprobs {
            var result = Sampling.logprobs(of: rawRow, count: vocabulary, chosen: token, top: k)
            // Tokens the grammar excludes have probability 0: they are not alternatives.
            if session.tokenMask != nil { result.top.removeAll { $0.logprob == -.infinity } }
            logprob = TokenLogprob(token: token, logprob: result.chosen, top: result.top)
        }
        let now = Date()
        if session.firstTokenAt == nil { session.firstTokenAt = now }
        session.lastTokenAt = now
        session.tokens.append(token)
        lock.lock()
        statistics.generationTokensTotal += 1
        lock.unlock()

        let endsGeneration = (!request.ignoreEOS && tokenizer.isEndOfGeneration(token)) || request.stopTokenIDs.contains(token)
        if endsGeneration {
            // The end token is counted as generated but never shown as text.
            finish(session, .stop)
            return
        }
        report(session, token: token, logprob: logprob)
        if session.state == .finished { return }
        if session.grammarMatcher?.isTerminated == true {
            // The grammar is complete and nothing can follow: the output is whole.
            finish(session, .stop)
        } else if session.generatedCount >= session.generationLimit || session.tokens.count >= contextLength {
            finish(session, .length)
        }
    }

    /// The vocabulary's token trie (special tokens excluded), built on first use.
    private func grammarTrie() -> TokenTrie {
        trieLock.lock()
        defer { trieLock.unlock() }
        if let tokenTrie { return tokenTrie }
        let tokenizer = self.tokenizer
        let trie = TokenTrie(vocabularySize: network.config.vocabularySize) { token in
            Int(token) < tokenizer.vocabularySize && !tokenizer.isSpecial(token) ? tokenizer.pieceBytes(token) : nil
        }
        tokenTrie = trie
        return trie
    }

    /// The session's grammar state, created at its first sampled token (with the vocabulary's
    /// trie, built once); nil for unconstrained sessions.
    private func grammarMatcher(for session: Session) -> GrammarMatcher? {
        if let matcher = session.grammarMatcher { return matcher }
        guard let grammar = session.request.grammar else { return nil }
        let trie = grammarTrie()
        var endTokens = session.request.stopTokenIDs
        if !session.request.ignoreEOS { endTokens.formUnion(tokenizer.specialTokens.endOfGeneration) }
        let sortedEndTokens = endTokens.sorted()
        let key = sortedEndTokens.map(String.init).joined(separator: ",") + "|" + grammar.source
        let tables: GrammarTables
        if let index = grammarTables.firstIndex(where: { $0.key == key }) {
            tables = grammarTables.remove(at: index).tables
        } else {
            tables = GrammarTables(grammar: grammar, trie: trie, endOfGenerationTokens: sortedEndTokens)
            if grammarTables.count >= Self.keptGrammarTables { grammarTables.removeFirst() }
        }
        grammarTables.append((key, tables))
        let matcher = GrammarMatcher(tables: tables)
        session.grammarMatcher = matcher
        session.tokenMask = TokenMask(vocabularySize: network.config.vocabularySize)
        return matcher
    }

    /// Turns a new token into text (held back while it may be a stop-string prefix or an
    /// incomplete UTF-8 sequence) and emits what is ready.
    private func report(_ session: Session, token: Int32, logprob: TokenLogprob?) {
        session.unreportedTokens.append(token)
        if let logprob { session.unreportedLogprobs.append(logprob) }
        let piece = session.detokenizer.append(token)
        let text: String
        if session.generatedCount <= session.request.minTokens {
            text = piece
        } else {
            text = session.stopFilter.push(piece)
        }
        if !text.isEmpty {
            session.handle.emit(.text(text, tokens: session.unreportedTokens, logprobs: session.unreportedLogprobs))
            session.unreportedTokens.removeAll()
            session.unreportedLogprobs.removeAll()
        }
        if session.stopFilter.matched != nil { finish(session, .stop, flush: false) }
    }

    /// Ends a session: flushes held text, reports usage, frees its cache.
    private func finish(_ session: Session, _ reason: FinishReason, flush: Bool = true) {
        guard session.state != .finished else { return }
        if flush && reason != .cancelled {
            let rest = session.stopFilter.push(session.detokenizer.finish()) + session.stopFilter.finish()
            if !rest.isEmpty {
                session.handle.emit(.text(rest, tokens: session.unreportedTokens, logprobs: session.unreportedLogprobs))
            }
        }
        if !session.promptLogprobsDone {
            session.promptLogprobsDone = true
            session.handle.emit(.promptLogprobs(session.promptLogprobs))
        }
        var usage = GenerationUsage()
        usage.promptTokens = session.promptCount
        usage.cachedTokens = session.cachedTokens
        usage.completionTokens = session.generatedCount
        let end = Date()
        usage.queueMilliseconds = (session.admittedAt ?? end).timeIntervalSince(session.submittedAt) * 1000
        usage.promptMilliseconds = (session.firstTokenAt ?? end).timeIntervalSince(session.admittedAt ?? end) * 1000
        usage.generationMilliseconds = end.timeIntervalSince(session.firstTokenAt ?? end) * 1000
        usage.attentionPolicy = session.attention.kind.rawValue
        usage.attentionPairsComputed = session.attentionWork.pairsComputed
        usage.attentionPairsDense = session.attentionWork.pairsDense
        usage.kvCompressionPolicy = session.compression.kind.rawValue
        usage.kvCompressionBudget = session.compression.isNone ? 0 : session.compression.budget
        usage.kvBytes = session.kv?.heldBytes ?? 0
        usage.kvBytesUncompressed = session.kv?.uncompressedBytes ?? 0
        if let compression = session.compressor?.statistics {
            usage.kvCompressions = compression.compressions
            usage.kvEntriesEvicted = compression.entriesEvicted
            usage.kvBytesLargestAfterCompression = compression.largestBytesAfterCompression
        }
        session.state = .finished
        scheduler.remove(session)
        lock.lock()
        queuedCount -= 1
        statistics.promptTokensTotal += session.promptCount
        lock.unlock()
        // Publish before the client learns it finished, so what it reads next is current.
        publishState()
        session.handle.emit(.finished(reason, usage))
    }

    private func fail(_ session: Session, _ error: EngineError) {
        guard session.state != .finished else { return }
        session.state = .finished
        scheduler.remove(session)
        lock.lock()
        queuedCount -= 1
        lock.unlock()
        publishState()
        session.handle.emit(.failed(error))
    }

    private func publishState() {
        let running = scheduler.running.count, waiting = scheduler.waiting.count
        let sessions = scheduler.running + scheduler.waiting
        let snapshots = sessions.map(\.snapshot)
        let sessionBytes = sessions.reduce(0) { $0 + ($1.kv?.heldBytes ?? 0) }
        let uncompressedBytes = sessions.reduce(0) { $0 + ($1.kv?.uncompressedBytes ?? 0) }
        lock.lock()
        statistics.requestsRunning = running
        statistics.requestsDecoding = scheduler.running.filter { $0.processedCount >= $0.promptCount }.count
        statistics.requestsWaiting = waiting + incoming.count
        statistics.kvBlocksUsed = pool.usedBlockCount
        statistics.kvBlocksCached = prefixCache.entryCount * pool.layout.streamCount
        statistics.kvBytesUsed = pool.usedBlockCount * pool.layout.bytesPerBlock
        statistics.preemptionsTotal = scheduler.preemptionCount
        statistics.kvSessionBytes = sessionBytes
        statistics.kvSessionBytesUncompressed = uncompressedBytes
        self.snapshots = snapshots
        lock.unlock()
    }

    private func ensureRawRow(_ vocabulary: Int) {
        guard vocabulary > rawRowCapacity else { return }
        rawRow.deallocate()
        rawRow = .allocate(capacity: vocabulary)
        rawRowCapacity = vocabulary
    }

    private func ensureLogits(rows: Int, vocabulary: Int) {
        let needed = max(1, rows) * vocabulary
        guard needed > logitCapacity else { return }
        logits.deallocate()
        logits = .allocate(capacity: needed)
        logitCapacity = needed
    }

    // MARK: - Model facts

    static func parameterCount(_ file: GGUFFile) -> Int {
        file.tensors.values.reduce(0) { $0 + $1.elementCount }
    }

    /// The file's quantization, from `general.file_type` (llama.cpp's names), else the most
    /// common matrix type.
    static func quantizationName(_ file: GGUFFile) -> String {
        let names = [0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
                     11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
                     17: "Q5_K_M", 18: "Q6_K", 32: "BF16"]
        if let type = file.value("general.file_type")?.intValue, let name = names[type] { return name }
        var counts: [GGMLType: Int] = [:]
        for info in file.tensors.values where info.dimensions.count == 2 { counts[info.type, default: 0] += 1 }
        return counts.max { $0.value < $1.value }?.key.name ?? "unknown"
    }
}
