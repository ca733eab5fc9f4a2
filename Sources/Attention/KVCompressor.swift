import Dispatch
import KVMemory

/// What compression did to one session so far.
public struct KVCompressionStatistics: Sendable, Equatable {
    /// Compaction rounds (a round rewrites every stream that needed it).
    public var compressions = 0
    /// Entries dropped over all rounds (every lane of every stream).
    public var entriesEvicted = 0
    /// Streams left as they were because the pool could not supply the blocks of their copy.
    public var streamsSkippedForMemory = 0
    /// Largest `KVSequence.heldBytes` seen after a forward pass since the cache was first
    /// compressed to `budget` (the output-aware round of `entropy`, the one round of `snapkv`
    /// and `latent`, any round of `streaming`); 0 before. Under `entropy` and `streaming` it stays
    /// within (budget + slack) entries per head on average, plus block rounding.
    public var largestBytesAfterCompression = 0
    /// Position count when the first round ran (nil: never).
    public var firstCompressionAt: Int?
    /// Wall time of the rounds (scoring, selection and compaction), seconds: the pause a round
    /// adds to the decode step that triggers it.
    public var seconds = 0.0
    /// Wall time of the longest round, seconds.
    public var longestRoundSeconds = 0.0

    public init() {}
}

/// One session's KV compression: records observation queries (through `window`, which the
/// forward pass fills), decides after each forward pass whether the policy compresses now, and
/// if so scores the cache (`ObservationScorer`), asks `KVCompressionSelection` which entries stay
/// and has `KVSequence.compact` apply it. Owned by the engine thread.
///
/// When each policy compresses (S prompt tokens, N = decodeGap, W = windowTokens):
/// - `streaming`: at the end of prefill when a stream holds more than `budget` entries, then
///   whenever one holds more than `budget + slackTokens`;
/// - `snapkv`: once at the end of prefill (window = the last W prompt queries);
/// - `latent`: once after decode step N+1, i.e. when position S+N is in the cache, with the W
///   queries before it (W−N prompt queries and the first N generated ones) and the released
///   code's window mask shifted by one; no later eviction;
/// - `entropy`: when position S+N−1 is in the cache, scored by the last `scoringTokens` queries
///   (N generated, the rest the prompt's end), to `budget`; after it, again whenever a stream
///   outgrows its budget by `slackTokens`. With `prefillBudgetFactor` > 0, also a first pass at
///   the end of prefill to `prefillBudgetFactor × budget` when the prompt exceeds it (scored by
///   the prompt's last `scoringTokens` queries), so long prompts decode over a bounded cache from
///   the first token and short answers are compressed too; off by default because the
///   prompt-only pass loses needles the output-aware round keeps.
public final class KVCompressor: @unchecked Sendable {
    public let policy: KVCompressionPolicy
    /// Observation queries of the session (nil for policies that score nothing); capacity W+1
    /// so `latent` can score with the W queries before the newest token.
    public let window: ObservationWindow?
    private let scorer: ObservationScorer
    private let layerCount: Int
    private var geometry: AttentionGeometry { scorer.geometry }
    /// Per thread of the scorer's pool: the keys `KeyNovelty` gathers, (entries × headDim) f32.
    private final class NoveltyScratch { var keys: [Float] = [] }
    private let noveltyScratch: [NoveltyScratch]

    private var prefillDone = false
    private var outputAwareDone = false
    /// Whether the cache has been compressed to `budget` (memory bounded from then on).
    private var atBudget = false
    /// `entropy`: per layer and KV head, the entries allotted at the last round.
    public private(set) var budgets: [[Int]]?
    /// `entropy`: per layer and KV head, the entropy (nats) of the head's aggregated attention at
    /// the last round.
    public private(set) var entropies: [[Double]]?
    public private(set) var statistics = KVCompressionStatistics()
    /// Frees pool blocks that only a cache holds until at least the given number are free (the
    /// engine passes its prefix cache's LRU eviction). Compaction copies kept entries into fresh
    /// blocks before the old ones go, and a prompt's old blocks stay with the prefix cache, so on
    /// a full pool a round needs this to run at all.
    public var reclaimBlocks: ((Int) -> Void)?

    public init(policy: KVCompressionPolicy, scorer: ObservationScorer, layerCount: Int) {
        self.policy = policy
        self.scorer = scorer
        self.layerCount = layerCount
        noveltyScratch = (0..<scorer.threads.threadCount).map { _ in NoveltyScratch() }
        window = policy.needsObservations
            ? ObservationWindow(capacity: policy.observedTokens, layerCount: layerCount,
                                queryWidth: scorer.geometry.queryHeadCount * scorer.geometry.headDim)
            : nil
    }

    /// Starts over (the session's cache was dropped and will be recomputed).
    public func reset() {
        prefillDone = false
        outputAwareDone = false
        atBudget = false
        budgets = nil
        entropies = nil
        window?.reset()
    }

    /// Runs the policy after a forward pass that left `kv` holding positions [0, positionCount)
    /// of a session whose prompt has `promptTokens` tokens. Returns whether it compacted.
    @discardableResult
    public func afterForward(kv: KVSequence, promptTokens: Int) -> Bool {
        let processed = kv.positionCount
        guard processed >= promptTokens, !policy.isNone else { return false }
        let before = kv.totalEntryCount
        let started = DispatchTime.now().uptimeNanoseconds
        var compacted = false
        switch policy.kind {
        case .none:
            break
        case .streaming:
            let threshold = prefillDone ? policy.budget + policy.slackTokens : policy.budget
            prefillDone = true
            compacted = compressStreaming(kv: kv, threshold: threshold)
        case .snapkv:
            guard !prefillDone else { break }
            prefillDone = true
            compacted = compressBaseline(kv: kv, slots: window!.slots(endingAt: processed, count: policy.windowTokens),
                                         limitOffset: 0)
        case .latent:
            guard !outputAwareDone, processed >= promptTokens + policy.decodeGap + 1 else { break }
            outputAwareDone = true
            compacted = compressBaseline(kv: kv, slots: window!.slots(endingAt: processed - 1, count: policy.windowTokens),
                                         limitOffset: 1)
        case .entropy:
            // The last `scoringTokens` processed queries (computed only when a round runs: decode steps allocate nothing).
            let window = self.window!, count = policy.scoringTokens
            if !outputAwareDone && processed >= promptTokens + policy.decodeGap {
                outputAwareDone = true
                prefillDone = true
                compacted = compressEntropy(kv: kv, meanBudget: policy.budget, slots: window.slots(endingAt: processed, count: count))
            } else if !prefillDone {
                prefillDone = true
                let firstBudget = Int((policy.prefillBudgetFactor * Double(policy.budget)).rounded(.down))
                if policy.prefillBudgetFactor > 0, (0..<layerCount).contains(where: { kv.largestEntryCount(layer: $0) > firstBudget }) {
                    compacted = compressEntropy(kv: kv, meanBudget: firstBudget, slots: window.slots(endingAt: processed, count: count))
                }
            } else if outputAwareDone && outgrown(kv: kv) {
                compacted = compressEntropy(kv: kv, meanBudget: policy.budget, slots: window.slots(endingAt: processed, count: count))
            }
        }
        if compacted {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            statistics.seconds += seconds
            statistics.longestRoundSeconds = max(statistics.longestRoundSeconds, seconds)
            statistics.compressions += 1
            statistics.entriesEvicted += max(0, before - kv.totalEntryCount)
            if statistics.firstCompressionAt == nil { statistics.firstCompressionAt = processed }
            if policy.kind != .entropy || outputAwareDone { atBudget = true }
        }
        if policy.kind == .entropy && outputAwareDone { atBudget = atBudget || statistics.compressions > 0 }
        if atBudget {
            statistics.largestBytesAfterCompression = max(statistics.largestBytesAfterCompression, kv.heldBytes)
        }
        return compacted
    }

    /// Whether a stream holds more than its budget plus the slack.
    private func outgrown(kv: KVSequence) -> Bool {
        for layer in 0..<layerCount {
            for kvHead in 0..<geometry.kvHeadCount {
                let budget = budgets?[layer][kvHead] ?? policy.budget
                if kv.entryCount(layer: layer, kvHead: kvHead) > budget + policy.slackTokens { return true }
            }
        }
        return false
    }

    private func apply(kv: KVSequence, layer: Int, kvHead: Int, keep: [[Int32]]) -> Bool {
        let deficit = kv.compactionDeficit(layer: layer, kvHead: kvHead, keep: keep)
        if deficit > 0, let reclaimBlocks { reclaimBlocks(kv.pool.freeBlockCount + deficit) }
        if kv.compact(layer: layer, kvHead: kvHead, keep: keep) { return true }
        statistics.streamsSkippedForMemory += 1
        return false
    }

    private func compressStreaming(kv: KVSequence, threshold: Int) -> Bool {
        var compacted = false
        for layer in 0..<layerCount {
            for kvHead in 0..<geometry.kvHeadCount {
                let members = kv.memberCount(layer: layer, kvHead: kvHead)
                var lists: [[Int32]] = []
                for member in 0..<members {
                    let count = kv.entryCount(layer: layer, kvHead: kvHead, member: member)
                    let keep = count > threshold
                        ? KVCompressionSelection.streaming(entryCount: count, budget: policy.budget, sinks: policy.sinkTokens) : nil
                    lists.append(keep ?? (0..<count).map { Int32($0) })
                }
                if lists.enumerated().contains(where: { $0.element.count < kv.entryCount(layer: layer, kvHead: kvHead, member: $0.offset) }) {
                    compacted = apply(kv: kv, layer: layer, kvHead: kvHead, keep: lists) || compacted
                }
            }
        }
        return compacted
    }

    /// SnapKV's selection (snapkv and latent): per query head on its own scores (expanding the
    /// stream to the query heads), or per KV head on the group's mean scores.
    private func compressBaseline(kv: KVSequence, slots: [(slot: Int, position: Int)], limitOffset: Int) -> Bool {
        guard !slots.isEmpty else { return false }
        var compacted = false
        for layer in 0..<layerCount {
            guard kv.largestEntryCount(layer: layer) >= policy.budget else { continue }
            let scores = scorer.scores(layer: layer, kv: kv, window: window!, slots: slots, limitOffset: limitOffset)
            for kvHead in 0..<geometry.kvHeadCount {
                let memberScores = scores[kvHead]
                if policy.expandGQA {
                    let lists = memberScores.map {
                        KVCompressionSelection.snapKV(scores: $0, budget: policy.budget, window: policy.windowTokens,
                                                      kernel: policy.poolingKernel, pooling: policy.pooling)
                    }
                    guard lists.allSatisfy({ $0 != nil }) else { continue }
                    compacted = apply(kv: kv, layer: layer, kvHead: kvHead, keep: lists.map { $0! }) || compacted
                } else {
                    let mean = Self.reduce(memberScores, .mean)
                    guard let keep = KVCompressionSelection.snapKV(scores: mean, budget: policy.budget, window: policy.windowTokens,
                                                                   kernel: policy.poolingKernel, pooling: policy.pooling)
                    else { continue }
                    compacted = apply(kv: kv, layer: layer, kvHead: kvHead, keep: [keep]) || compacted
                }
            }
        }
        return compacted
    }

    /// The entropy policy's round: per layer, group-aggregated scores per KV head, budgets shared
    /// out between the heads (`meanBudget × kvHeads` in all), sinks and recent window kept, and
    /// with a novelty share a part of each head's budget spent on its most novel keys
    /// (`KeyNovelty`).
    private func compressEntropy(kv: KVSequence, meanBudget: Int, slots: [(slot: Int, position: Int)]) -> Bool {
        guard !slots.isEmpty else { return false }
        let kvHeads = geometry.kvHeadCount
        var compacted = false
        var newBudgets = budgets ?? Array(repeating: Array(repeating: meanBudget, count: kvHeads), count: layerCount)
        var newEntropies = entropies ?? Array(repeating: Array(repeating: 0, count: kvHeads), count: layerCount)
        let forwardDecay = policy.forwardDecay(meanBudget: meanBudget)
        let noveltyShare = policy.noveltyShare(meanBudget: meanBudget)
        let slotPositions = slots.map(\.position)
        let rowWeights = policy.scoringWeights(positions: slotPositions, newest: kv.positionCount - 1, meanBudget: meanBudget)
        let rowBlocks = policy.scoringBlocks(positions: slotPositions, newest: kv.positionCount - 1)
        // `adaptive`: queries per block, and the entries a head's backtest picks (the same for every layer).
        let blockSizes = rowBlocks.map { blocks in (0...(blocks.max() ?? 0)).map { block in blocks.count { $0 == block } } } ?? []
        let keep = max(1, meanBudget - policy.sinkTokens - policy.windowTokens)
        for layer in 0..<layerCount {
            let aggregated: [[Float]]
            if policy.observationReduction == .adaptive, let rowBlocks {
                aggregated = scorer.blockScores(layer: layer, kv: kv, window: window!, slots: slots, rowBlocks: rowBlocks).map { members in
                    let blocks = blockSizes.indices.map { block in Self.reduce(members.map { $0[block] }, policy.groupReduction) }
                    return KVCompressionSelection.recencyChoice(blocks: blocks, blockSizes: blockSizes, keep: keep,
                                                                recent: policy.windowTokens).scores
                }
            } else {
                aggregated = scorer.scores(layer: layer, kv: kv, window: window!, slots: slots, rowWeights: rowWeights,
                                           rowBlocks: rowBlocks).map { Self.reduce($0, policy.groupReduction) }
            }
            guard let plan = KVCompressionSelection.entropyLayer(
                scores: aggregated, total: meanBudget * kvHeads, sinks: policy.sinkTokens, recent: policy.windowTokens,
                kernel: policy.poolingKernel, pooling: policy.pooling, allocation: policy.allocation,
                minimumHeadFraction: policy.minimumHeadFraction, maximumHeadFactor: policy.maximumHeadFactor,
                chunk: policy.chunkTokens, chunkShare: policy.chunkShare, chunkAlignment: policy.chunkAlignment,
                forwardDecay: forwardDecay,
                positions: forwardDecay > 0 ? (0..<kvHeads).map { kv.positions(layer: layer, kvHead: $0) } : nil,
                novelty: noveltyShare > 0 ? keyNovelty(layer: layer, kv: kv) : nil, noveltyShare: noveltyShare,
                noveltyKernel: policy.noveltyKernel)
            else {
                newBudgets[layer] = Array(repeating: meanBudget, count: kvHeads)
                newEntropies[layer] = aggregated.map(KVCompressionSelection.entropy)
                continue
            }
            newBudgets[layer] = plan.budgets
            newEntropies[layer] = plan.entropies
            for kvHead in 0..<kvHeads where plan.keep[kvHead].count < aggregated[kvHead].count {
                compacted = apply(kv: kv, layer: layer, kvHead: kvHead, keep: [plan.keep[kvHead]]) || compacted
            }
        }
        budgets = newBudgets
        entropies = newEntropies
        return compacted
    }

    /// `KeyNovelty` of every KV head's entries in `layer`, the heads in parallel.
    private func keyNovelty(layer: Int, kv: KVSequence) -> [[Float]] {
        var result = [[Float]](repeating: [], count: geometry.kvHeadCount)
        let headDim = geometry.headDim
        result.withUnsafeMutableBufferPointer { heads in
            scorer.threads.run(tasks: heads.count) { kvHead, thread in
                heads[kvHead] = KeyNovelty.scores(layer: layer, kvHead: kvHead, kv: kv, headDim: headDim,
                                                  scratch: &self.noveltyScratch[thread].keys)
            }
        }
        return result
    }

    /// Scores of a query group combined per entry.
    public static func reduce(_ members: [[Float]], _ reduction: KVCompressionPolicy.GroupReduction) -> [Float] {
        guard var result = members.first else { return [] }
        for member in members.dropFirst() {
            for index in result.indices {
                switch reduction {
                case .mean: result[index] += member[index]
                case .max: result[index] = max(result[index], member[index])
                }
            }
        }
        if reduction == .mean {
            let scale = 1 / Float(members.count)
            for index in result.indices { result[index] *= scale }
        }
        return result
    }
}
