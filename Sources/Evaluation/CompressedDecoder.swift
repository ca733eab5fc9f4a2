import Attention
import Foundation
import KVMemory
import Models

/// Runs one prompt under several KV compression policies side by side, as the engine runs a
/// session: the prompt's KV is computed once (dense prefill) and shared by every policy's cache
/// (prefix reuse), each policy recomputes the prompt's last tokens so it records its
/// observation queries, then all of them decode in lockstep, one batched forward pass per step
/// (every policy reads the weights once per step), each compressing its own cache after every
/// pass exactly as `KVCompressor.afterForward` does in the engine.
///
/// Each step either feeds a forced token (a teacher-forced continuation, or turns the caller
/// appends) or the policy's own greedy choice. With `compareTo`, every forced step also scores
/// each policy's next-token distribution against that policy's (the uncompressed cache).
public final class CompressedDecoder {
    public let model: Model

    public init(model: Model) {
        self.model = model
    }

    /// What one policy did.
    public struct Run: Sendable {
        public var policy: KVCompressionPolicy
        /// Greedy tokens after the forced ones (up to and excluding an end-of-generation token).
        public var generated: [Int32] = []
        /// Forced steps scored against the reference policy.
        public var statistics = NextTokenStatistics()
        public var compression = KVCompressionStatistics()
        /// KV bytes the cache held at the end, and what the same positions hold uncompressed.
        public var heldBytes = 0
        public var uncompressedBytes = 0
        /// Positions processed (prompt, forced and generated tokens fed back).
        public var positions = 0
        /// Per layer and KV head: how many of the watched positions the stream still held at the
        /// end (the most any query-head lane held, for GQA-expanding policies). Empty when no
        /// positions were watched.
        public var watchedHeld: [[Int]] = []
    }

    /// A prompt whose shared prefix has been computed, ready for any number of `run`s.
    public final class Prefilled {
        public let prompt: [Int32]
        let pool: KVBlockPool
        let base: KVSequence
        /// Positions every run may reach (prompt, forced and generated tokens).
        public let capacity: Int
        let window: Int

        init(prompt: [Int32], pool: KVBlockPool, base: KVSequence, capacity: Int, window: Int) {
            self.prompt = prompt; self.pool = pool; self.base = base; self.capacity = capacity; self.window = window
        }

        deinit { base.releaseAll() }
    }

    /// Computes the KV of `prompt` that runs of `policies` (or policies with no larger
    /// observation window) share, densely, in chunks of `prefillChunk` as the engine prefills;
    /// runs may then add up to `capacity − prompt.count` forced and generated tokens.
    public func prefill(_ prompt: [Int32], policies: [KVCompressionPolicy], capacity: Int,
                        prefillChunk: Int = 512) throws -> Prefilled {
        precondition(!prompt.isEmpty && !policies.isEmpty && capacity >= prompt.count, "a prompt and a policy")
        let layout = model.kvLayout()
        let group = model.config.queryHeadCount / model.config.kvHeadCount
        let pool = try KVBlockPool(layout: layout, budgetBytes: Self.poolBlocks(layout: layout, positions: capacity,
                                                                               policies: policies, group: group)
                                       * (layout.bytesPerBlock + layout.summaryBytesPerBlock))
        let window = policies.map(\.observedTokens).max() ?? 0
        let shared = max(0, (prompt.count - window - 1) / KVLayout.blockTokens * KVLayout.blockTokens)
        let base = KVSequence(pool: pool)
        let unused = UnsafeMutablePointer<Float>.allocate(capacity: 1)  // no logits rows are asked for
        defer { unused.deallocate() }
        var offset = 0
        while offset < shared {
            let count = min(prefillChunk, shared - offset)
            try base.reserve(appending: count)
            _ = model.forward(ForwardBatch(tokens: Array(prompt[offset..<offset + count]),
                                           segments: [.init(kv: base, tokenStart: 0, tokenCount: count)], logitRows: []),
                              logits: unused)
            offset += count
        }
        return Prefilled(prompt: prompt, pool: pool, base: base, capacity: capacity, window: window)
    }

    /// Runs the prefilled prompt under every policy: the prompt's tail, then `forced` tokens one
    /// step at a time, then up to `maxNewTokens` greedy tokens per policy (a policy stops at a
    /// token in `stop`). `compareTo`: index into `policies` whose logits score the others at
    /// every forced step (target = the forced token). `watched`: prompt positions (a needle's
    /// tokens) whose survival each run reports per stream (`Run.watchedHeld`).
    public func run(_ prefilled: Prefilled, policies: [KVCompressionPolicy], forced: [Int32] = [], maxNewTokens: Int,
                    stop: Set<Int32> = [], compareTo reference: Int? = nil, watched: [Range<Int>] = []) throws -> [Run] {
        let prompt = prefilled.prompt
        let watchedPositions = Set(watched.joined().map { Int32($0) })
        precondition(!policies.isEmpty && prompt.count + forced.count + maxNewTokens <= prefilled.capacity,
                     "runs stay within the prefilled capacity")
        precondition(policies.allSatisfy { $0.observedTokens <= prefilled.window },
                     "the shared prefix leaves every policy its observation window")
        let vocabulary = model.config.vocabularySize
        let steps = forced.count + maxNewTokens
        // (policies, vocabulary) f32: the newest logits row of every active policy.
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: policies.count * vocabulary)
        defer { logits.deallocate() }

        let prefixBlocks = prefilled.base.positionCount / KVLayout.blockTokens
        let prefix = (0..<prefixBlocks).map { prefilled.base.streamBlocks(atBlock: $0)! }
        var caches: [KVSequence] = []
        var compressors: [KVCompressor?] = []
        defer { for cache in caches { cache.releaseAll() } }
        for policy in policies {
            let cache = KVSequence(pool: prefilled.pool)
            cache.adopt(prefix: prefix)
            caches.append(cache)
            compressors.append(model.makeCompressor(policy: policy))
        }
        var runs = policies.map { Run(policy: $0) }

        // Every policy's prompt tail in one pass; each then compresses as after the engine's
        // last prefill chunk.
        let tail = Array(prompt[prefilled.base.positionCount...])
        for cache in caches { try cache.reserve(appending: tail.count) }
        _ = model.forward(ForwardBatch(
            tokens: Array(repeating: tail, count: policies.count).flatMap { $0 },
            segments: policies.indices.map { .init(kv: caches[$0], tokenStart: $0 * tail.count, tokenCount: tail.count,
                                                   observation: compressors[$0]?.window) },
            logitRows: policies.indices.map { ($0 + 1) * tail.count - 1 }), logits: logits)
        for index in policies.indices { compressors[index]?.afterForward(kv: caches[index], promptTokens: prompt.count) }

        var active = Array(policies.indices)  // logits row r belongs to policy active[r]
        for step in 0..<steps {
            var next: [Int32] = []
            var stillActive: [Int] = []
            for (row, index) in active.enumerated() {
                let rowLogits = logits + row * vocabulary
                if step < forced.count {
                    if let reference, let referenceRow = active.firstIndex(of: reference) {
                        runs[index].statistics.add(dense: logits + referenceRow * vocabulary, policy: rowLogits,
                                                   vocabularySize: vocabulary, target: forced[step])
                    }
                    next.append(forced[step])
                } else {
                    let token = Self.argmax(rowLogits, count: vocabulary)
                    if stop.contains(token) { continue }
                    runs[index].generated.append(token)
                    next.append(token)
                }
                stillActive.append(index)
            }
            active = stillActive
            guard step + 1 < steps, !active.isEmpty else { break }
            for index in active { try caches[index].reserve(appending: 1) }
            _ = model.forward(ForwardBatch(
                tokens: next,
                segments: active.enumerated().map { row, index in
                    .init(kv: caches[index], tokenStart: row, tokenCount: 1, observation: compressors[index]?.window)
                },
                logitRows: Array(active.indices)), logits: logits)
            for index in active { compressors[index]?.afterForward(kv: caches[index], promptTokens: prompt.count) }
        }
        for index in policies.indices {
            runs[index].compression = compressors[index]?.statistics ?? KVCompressionStatistics()
            runs[index].heldBytes = caches[index].heldBytes
            runs[index].uncompressedBytes = caches[index].uncompressedBytes
            runs[index].positions = caches[index].positionCount
            if !watchedPositions.isEmpty {
                runs[index].watchedHeld = Self.held(watchedPositions, in: caches[index], layers: model.config.layerCount)
            }
        }
        return runs
    }

    /// Per layer and KV head: how many of `watched` the stream holds (the most any lane holds).
    static func held(_ watched: Set<Int32>, in cache: KVSequence, layers: Int) -> [[Int]] {
        (0..<layers).map { layer in
            (0..<cache.layout.kvHeadCount).map { kvHead in
                (0..<cache.memberCount(layer: layer, kvHead: kvHead)).map { member in
                    cache.positions(layer: layer, kvHead: kvHead, member: member).filter(watched.contains).count
                }.max() ?? 0
            }
        }
    }

    /// Blocks for the shared prefix plus every policy's worst case: the whole sequence
    /// uncompressed, plus the kept entries copied out at a compaction (one lane per query head
    /// for the GQA-expanding baselines).
    static func poolBlocks(layout: KVLayout, positions: Int, policies: [KVCompressionPolicy], group: Int) -> Int {
        let perStream = (positions + KVLayout.blockTokens - 1) / KVLayout.blockTokens + 1
        var blocks = perStream
        for policy in policies {
            blocks += perStream
            if !policy.isNone { blocks += perStream * (policy.expandsGQA ? group : 1) }
        }
        return blocks * layout.streamCount
    }

    /// The most likely token (lowest id on ties).
    static func argmax(_ row: UnsafePointer<Float>, count: Int) -> Int32 {
        var best = 0
        for index in 1..<count where row[index] > row[best] { best = index }
        return Int32(best)
    }
}
