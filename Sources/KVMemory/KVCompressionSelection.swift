import Foundation

/// The decisions of the KV compression policies, as pure functions of scores: which entries of a
/// stream stay (ascending entry indices). Nothing here touches storage; `KVSequence.compact`
/// applies a decision. Entry i is the i-th entry of a stream in position order.
///
/// Ties between equal scores go to the lower entry index (PyTorch's `topk` leaves tie order
/// unspecified), so a decision is a pure function of its inputs.
public enum KVCompressionSelection {
    // MARK: - Building blocks

    /// PyTorch `F.avg_pool1d(x, kernel, stride=1, padding=kernel/2)` with its default
    /// `count_include_pad=True`: every output divides by `kernel`, padding counting as zeros.
    public static func averagePool(_ values: [Float], kernel: Int) -> [Float] {
        guard kernel > 1 else { return values }
        let half = kernel / 2
        let divisor = Float(kernel)
        return values.indices.map { index in
            var sum: Float = 0
            for j in max(0, index - half)...min(values.count - 1, index + half) { sum += values[j] }
            return sum / divisor
        }
    }

    /// PyTorch `F.max_pool1d(x, kernel, stride=1, padding=kernel/2)`: padding never wins.
    public static func maxPool(_ values: [Float], kernel: Int) -> [Float] {
        guard kernel > 1 else { return values }
        let half = kernel / 2
        return values.indices.map { index in
            var best = -Float.infinity
            for j in max(0, index - half)...min(values.count - 1, index + half) { best = max(best, values[j]) }
            return best
        }
    }

    public static func pool(_ values: [Float], kernel: Int, pooling: KVCompressionPolicy.Pooling) -> [Float] {
        switch pooling {
        case .avg: return averagePool(values, kernel: kernel)
        case .max: return maxPool(values, kernel: kernel)
        }
    }

    /// Each value raised to at least the decayed raised value before it:
    /// out[0] = v[0], out[i] = max(v[i], decay^gap · out[i−1]), gap = positions[i] − positions[i−1]
    /// (1 without positions). An attended entry lends a decaying share of its score to the
    /// entries after it; over positions, the share also decays across the gaps a compacted
    /// stream has between neighbours. `decay` 0: the values unchanged.
    public static func spreadForward(_ values: [Float], decay: Float, positions: ArraySlice<Int32>? = nil) -> [Float] {
        guard decay > 0 else { return values }
        var result = values
        for index in result.indices.dropFirst() {
            // Positions ascend strictly, so gap ≥ 1.
            let gap = positions.map { Int($0[$0.startIndex + index]) - Int($0[$0.startIndex + index - 1]) } ?? 1
            let factor = gap == 1 ? decay : Float(pow(Double(decay), Double(gap)))
            result[index] = max(result[index], factor * result[index - 1])
        }
        return result
    }

    /// Indices of the `count` largest values (ties to the lower index), ascending.
    public static func largest(_ values: [Float], count: Int) -> [Int32] {
        guard count < values.count else { return values.indices.map { Int32($0) } }
        return TopK.largest(values, count: count).sorted()
    }

    // MARK: - Baselines

    /// SnapKV's `update_kv` and the released `compress_kv` (the latent policy): `scores[i]` is
    /// entry i's attention averaged (or summed: the ranking is the same) over the observation
    /// queries. With fewer than `budget` entries nothing is compressed (nil, the released
    /// `if q_len < max_capacity_prompt: return`). Otherwise the scores of entries
    /// [0, n − window) are pooled, their top `budget − window` kept, plus the last `window`
    /// entries. Ascending; the released code orders the kept past by score, which attention
    /// does not depend on.
    public static func snapKV(scores: [Float], budget: Int, window: Int, kernel: Int,
                              pooling: KVCompressionPolicy.Pooling = .avg) -> [Int32]? {
        let n = scores.count
        guard n >= budget, budget > window else { return nil }
        let past = Array(scores[0..<(n - window)])
        let pooled = pool(past, kernel: kernel, pooling: pooling)
        return largest(pooled, count: budget - window) + (n - window..<n).map { Int32($0) }
    }

    /// StreamingLLM: the first `sinks` entries and the last `budget − sinks`; nil when the
    /// stream holds at most `budget` entries.
    public static func streaming(entryCount n: Int, budget: Int, sinks: Int) -> [Int32]? {
        guard n > budget, budget > sinks else { return nil }
        return (0..<sinks).map { Int32($0) } + (n - (budget - sinks)..<n).map { Int32($0) }
    }

    // MARK: - The entropy policy

    /// `observation_reduction` adaptive: one KV head's scores from the block means of its scoring
    /// queries (`blocks`, oldest first, `blockSizes` queries each): the mean over every query, or
    /// the newest block's mean alone. The choice is a backtest one block back: the older blocks'
    /// mean and the newest older block's mean each pick their `keep` best entries among those
    /// before the last `recent` (kept anyway); the one whose picks hold more of the newest block's
    /// attention wins (ties to every query). So a head whose recent queries attend what the older
    /// ones did not scores with the newest block, and a head that returns to what earlier queries
    /// read scores with all of them. With fewer than three blocks: the mean over every query.
    public static func recencyChoice(blocks: [[Float]], blockSizes: [Int], keep: Int, recent: Int)
        -> (scores: [Float], newestAlone: Bool) {
        precondition(blocks.count == blockSizes.count && !blocks.isEmpty, "one size per block")
        func mean(_ range: Range<Int>) -> [Float] {
            var result = [Float](repeating: 0, count: blocks[0].count)
            let total = Float(blockSizes[range].reduce(0, +))
            guard total > 0 else { return result }
            for block in range where blockSizes[block] > 0 {
                let weight = Float(blockSizes[block]) / total
                for entry in result.indices { result[entry] += weight * blocks[block][entry] }
            }
            return result
        }
        let every = mean(0..<blocks.count)
        guard blocks.count >= 3, let newest = blocks.last else { return (every, false) }
        let candidates = max(0, newest.count - recent)
        func heldByNewest(_ picks: [Int32]) -> Double { picks.reduce(0) { $0 + Double(newest[Int($1)]) } }
        let older = heldByNewest(TopK.largest(mean(0..<blocks.count - 1), count: keep) { $0 < candidates })
        let recentOnly = heldByNewest(TopK.largest(blocks[blocks.count - 2], count: keep) { $0 < candidates })
        return recentOnly > older ? (newest, true) : (every, false)
    }

    /// One layer's decision under the `entropy` policy.
    public struct LayerPlan: Sendable, Equatable {
        /// Per KV head: kept entry indices, ascending.
        public var keep: [[Int32]]
        /// Per KV head: entries allotted (kept = min(budget, entries)).
        public var budgets: [Int]
        /// Per KV head: entropy in nats of the head's (group-aggregated) attention over its entries.
        public var entropies: [Double]
    }

    /// Shares `total` entries between the KV heads of a layer and picks each head's entries.
    ///
    /// `scores[h][i]`: head h's attention to entry i, averaged over the observation queries and
    /// aggregated over the query group. Per head, the first `sinks` and the last `recent` entries
    /// are always kept; the others are ranked by their pooled scores, spread forward by
    /// `forwardDecay` over the entries' `positions[h]` (`spreadForward`). A head's budget lies in
    /// [max(always kept, ⌈minimumHeadFraction × mean⌉), ⌊maximumHeadFactor × mean⌋] (and never
    /// above its entries), mean = total / heads; the rest of `total` goes one entry at a time to
    /// the head the allocation favours:
    /// - `coverage`: the head whose kept entries hold the smallest fraction of its pooled score
    ///   mass (max-min retained attention: low-entropy heads saturate early, flat heads take more);
    /// - `adakv`: the head whose next entry has the largest normalised score (AdaKV);
    /// - `entropy`: budgets proportional to exp(entropy), the head's effective support;
    /// - `uniform`: the head with the smallest budget.
    /// Ties go to the lower head index. With `chunk` > 1 the candidates are ranked chunk by chunk
    /// (`rankedCandidates`), so heads keep whole chunks. With `novelty` (per head, per entry: a
    /// query-agnostic score such as `KeyNovelty`'s) and `noveltyShare` > 0, budgets are shared out
    /// as above, then each head fills about `noveltyShare` of its kept candidates from the
    /// novelty ranking (max-pooled over `noveltyKernel` entries, so a novel entry's neighbours rank
    /// with it) and the rest from the attention ranking (`interleave`). Returns nil when every
    /// entry fits (nothing to do).
    public static func entropyLayer(scores: [[Float]], total: Int, sinks: Int, recent: Int, kernel: Int,
                                    pooling: KVCompressionPolicy.Pooling, allocation: KVCompressionPolicy.Allocation,
                                    minimumHeadFraction: Double, maximumHeadFactor: Double, chunk: Int = 1,
                                    chunkShare: Double = 1,
                                    chunkAlignment: KVCompressionPolicy.ChunkAlignment = .aligned,
                                    forwardDecay: Double = 0, positions: [[Int32]]? = nil,
                                    novelty: [[Float]]? = nil, noveltyShare: Double = 0, noveltyKernel: Int = 1) -> LayerPlan? {
        let heads = scores.count
        guard heads > 0, scores.reduce(0, { $0 + $1.count }) > total else { return nil }
        let mean = Double(total) / Double(heads)

        struct Head {
            var n = 0, fixedLow = 0, fixedHigh = 0
            var order: [Int32] = []          // candidates, best pooled score first
            var cumulative: [Double] = []    // pooled mass of the best k candidates, k = 0...
            var mass = 0.0                   // total pooled candidate mass
            var entropy = 0.0
            var low = 0, high = 0
            var fixed: Int { fixedLow + (n - fixedHigh) }
        }
        var state = [Head](repeating: Head(), count: heads)
        for h in 0..<heads {
            let values = scores[h]
            var head = Head()
            head.n = values.count
            head.fixedLow = min(sinks, head.n)
            head.fixedHigh = max(head.fixedLow, head.n - recent)
            let candidates = Array(values[head.fixedLow..<head.fixedHigh])
            let pooled = spreadForward(pool(candidates, kernel: kernel, pooling: pooling), decay: Float(forwardDecay),
                                       positions: positions?[h][head.fixedLow..<head.fixedHigh])
            head.order = rankedCandidates(pooled: pooled, raw: candidates, chunk: chunk, chunkShare: chunkShare,
                                          alignment: chunkAlignment)
            head.cumulative = [0]
            head.cumulative.reserveCapacity(pooled.count + 1)
            var running = 0.0
            for index in head.order {
                running += Double(max(0, pooled[Int(index)]))
                head.cumulative.append(running)
            }
            head.mass = running
            head.entropy = entropy(values)
            head.low = min(head.n, max(head.fixed, Int((minimumHeadFraction * mean).rounded(.up))))
            head.high = min(head.n, max(head.low, Int((maximumHeadFactor * mean).rounded(.down))))
            state[h] = head
        }

        var budgets = state.map(\.low)
        var remaining = total - budgets.reduce(0, +)
        let weights = state.map { exp($0.entropy) }
        while remaining > 0 {
            var chosen = -1
            var best = 0.0
            for h in 0..<heads where budgets[h] < state[h].high {
                let head = state[h]
                let taken = budgets[h] - head.fixed
                let key: Double
                switch allocation {
                case .coverage:
                    // Smaller retained fraction first (negated so larger is better).
                    key = head.mass > 0 ? -head.cumulative[taken] / head.mass : -1
                case .adakv:
                    key = head.mass > 0 ? (head.cumulative[taken + 1] - head.cumulative[taken]) / head.mass : 0
                case .entropy:
                    key = -Double(budgets[h]) / weights[h]
                case .uniform:
                    key = -Double(budgets[h])
                }
                if chosen < 0 || key > best { chosen = h; best = key }
            }
            guard chosen >= 0 else { break }
            budgets[chosen] += 1
            remaining -= 1
        }

        var keep: [[Int32]] = []
        keep.reserveCapacity(heads)
        for h in 0..<heads {
            let head = state[h]
            let taken = max(0, budgets[h] - head.fixed)
            var order = head.order
            if let novelty, noveltyShare > 0 {
                let candidateNovelty = maxPool(Array(novelty[h][head.fixedLow..<head.fixedHigh]), kernel: noveltyKernel)
                order = interleave(order, TopK.ranked(candidateNovelty, candidateNovelty.indices), share: noveltyShare)
            }
            var kept = (0..<head.fixedLow).map { Int32($0) }
            kept += order.prefix(taken).map { $0 + Int32(head.fixedLow) }.sorted()
            kept += (head.fixedHigh..<head.n).map { Int32($0) }
            keep.append(kept)
        }
        return LayerPlan(keep: keep, budgets: budgets, entropies: state.map(\.entropy))
    }

    /// Candidate indices, best first. `chunk` 1: by pooled score (ties to the lower index).
    /// Otherwise ChunkKV's ranking: the candidates form aligned chunks [c·chunk, (c+1)·chunk) (the
    /// last one shorter), a chunk scores the sum of its entries' raw scores, chunks go best first
    /// (ties to the lower chunk) and each lists its entries best pooled score first, so a budget
    /// cut keeps whole chunks and the best entries of at most one more.
    ///
    /// `chunkShare` < 1 mixes the two rankings: every prefix of the result takes about
    /// `chunkShare` of its entries from the chunk ranking and the rest from the entry ranking
    /// (each skipping what the other already took), so a budget keeps the best single entries
    /// and, with what is left, whole chunks around the strongest spans.
    ///
    /// `alignment` `sliding`: a chunk may start at any candidate. Every window [i, i+chunk)
    /// (shorter at the end) scores the sum of its raw scores; windows go best first (ties to the
    /// lower start) and each lists its entries not listed yet, best pooled score first. A span cut
    /// by an aligned boundary (a number whose last digits fall in the next chunk) is then kept
    /// whole by the window that covers it.
    public static func rankedCandidates(pooled: [Float], raw: [Float], chunk: Int, chunkShare: Double = 1,
                                        alignment: KVCompressionPolicy.ChunkAlignment = .aligned) -> [Int32] {
        let byEntry = { TopK.ranked(pooled, pooled.indices) }
        guard chunk > 1, chunkShare > 0 else { return byEntry() }
        let byChunk = chunkRanking(pooled: pooled, raw: raw, chunk: chunk, startStride: alignment == .aligned ? chunk : 1)
        guard chunkShare < 1 else { return byChunk }
        return interleave(byEntry(), byChunk, share: chunkShare)
    }

    /// Two rankings of the same indices 0..<n merged into one: every prefix of the result takes
    /// about `share` of its entries from `second` and the rest from `first`, each skipping what
    /// the other already took. A permutation of the indices.
    public static func interleave(_ first: [Int32], _ second: [Int32], share: Double) -> [Int32] {
        let count = first.count
        var taken = [Bool](repeating: false, count: count)
        var result: [Int32] = []
        result.reserveCapacity(count)
        var (nextSecond, nextFirst, fromSecond) = (0, 0, 0)
        while result.count < count {
            let next: Int32
            if Double(fromSecond) < share * Double(result.count + 1) {
                while taken[Int(second[nextSecond])] { nextSecond += 1 }
                next = second[nextSecond]
                fromSecond += 1
            } else {
                while taken[Int(first[nextFirst])] { nextFirst += 1 }
                next = first[nextFirst]
            }
            result.append(next)
            taken[Int(next)] = true
        }
        return result
    }

    /// The chunk ranking of `rankedCandidates`: windows [i, i+chunk) starting every `startStride`
    /// entries (`chunk`: the aligned chunks; 1: sliding), best raw sum first (ties to the lower
    /// start), each adding its entries not listed yet, best pooled first. A permutation of the
    /// indices.
    static func chunkRanking(pooled: [Float], raw: [Float], chunk: Int, startStride: Int) -> [Int32] {
        let n = raw.count
        // Each window summed in order, so equal windows score equal.
        let windows = stride(from: 0, to: n, by: startStride).map { $0..<min(n, $0 + chunk) }
        let windowSums = windows.map { raw[$0].reduce(Float(0), +) }
        var listed = [Bool](repeating: false, count: n)
        var result: [Int32] = []
        result.reserveCapacity(n)
        for start in TopK.ranked(windowSums, windows.indices) {
            if result.count == n { break }
            let window = windows[Int(start)]
            for entry in TopK.ranked(pooled, window) where !listed[Int(entry)] {
                listed[Int(entry)] = true
                result.append(entry)
            }
        }
        return result
    }

    /// Entropy in nats of `scores` normalised to sum 1 (0 when they sum to 0).
    public static func entropy(_ scores: [Float]) -> Double {
        var total = 0.0
        for value in scores where value > 0 { total += Double(value) }
        guard total > 0 else { return 0 }
        var result = 0.0
        for value in scores where value > 0 {
            let p = Double(value) / total
            result -= p * log(p)
        }
        return result
    }
}
