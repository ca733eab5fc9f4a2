import CKernels
import Foundation
import Kernels
import KVMemory

/// The entropy profile of one query segment in one layer: for each KV head, the estimated
/// attention distribution of the segment over the key blocks before it, and its entropy.
public struct SegmentProfile: Sendable {
    /// Absolute position where the segment starts; every profiled block ends before it.
    public var segmentStart: Int
    /// Per KV head: estimated attention mass of each past KV block (16 tokens; the sum of its two
    /// 8-token units), in stream order. Sums to 1 when any block exists.
    public var blockMass: [[Float]]
    /// Per KV head: first position of each past block (for sink and local-window rules).
    public var blockFirstPositions: [[Int32]]
    /// Per KV head: entropy in nats of the distribution over 8-token units (0 with no past).
    public var entropy: [Double]
    /// Multiply-accumulates spent on pooling and scoring (the profile's cost).
    public var multiplyAccumulates: Int

    public var kvHeadCount: Int { blockMass.count }

    public init(segmentStart: Int, blockMass: [[Float]], blockFirstPositions: [[Int32]], entropy: [Double],
                multiplyAccumulates: Int) {
        self.segmentStart = segmentStart; self.blockMass = blockMass; self.blockFirstPositions = blockFirstPositions
        self.entropy = entropy; self.multiplyAccumulates = multiplyAccumulates
    }
}

/// Builds `SegmentProfile`s the way EntropyInfer does (§2 of docs on the method), from the key
/// min/max summaries the KV memory keeps per 8-token unit:
///
/// 1. pooled queries per query head: element-wise max and min over the segment's tokens;
/// 2. unit score max(½(q̂max·k̂max + q̂min·k̂max), ½(q̂max·k̂min + q̂min·k̂min)), i.e. the midpoint
///    query against the unit's min and max keys, averaged over the KV head's query group;
/// 3. softmax over every unit that ends before the segment start (the causal rule: a segment
///    never scores itself or the future), entropy in nats.
///
/// `scale` multiplies the scores before the softmax: 1 reproduces the released code's unscaled
/// logits (the `reference` policy's threshold e_t lives on that scale); 1/√d puts them on the
/// attention's own logit scale (the `entropy` policy).
///
/// Cost per (query head, segment): pooling reads tokens × headDim floats; scoring is
/// 2 × headDim multiply-accumulates per 8-token unit of the past, i.e. 2·d·(P/8) against the
/// dense segment's 2·d·512·P (QKᵀ and PV) — 1/4096 of dense attention's multiply-accumulates
/// for 512-token segments.
///
/// `sampledProfile` is the `entropy` policy's estimator when `profileQueries` > 0: the exact
/// attention of a few of the segment's own queries instead of one pooled query per head (see
/// there).
public final class EntropyProfiler: @unchecked Sendable {
    public let geometry: AttentionGeometry
    private let threads: ThreadPool
    /// Per thread: sampled query rows and their logits over one stream (grows, never shrinks).
    private let scratch: [ObservationScorer.Scratch]

    public init(geometry: AttentionGeometry, threads: ThreadPool) {
        self.geometry = geometry
        self.threads = threads
        scratch = (0..<threads.threadCount).map { _ in ObservationScorer.Scratch() }
    }

    /// Token indices (within the segment's `tokenCount` queries) of `sampleCount` evenly spaced
    /// sampled queries, the last query always among them.
    public static func sampledTokens(tokenCount: Int, sampleCount: Int) -> [Int] {
        let count = min(tokenCount, sampleCount)
        return (0..<count).map { (($0 + 1) * tokenCount) / count - 1 }
    }

    /// The segment's block distribution measured on `sampleCount` of its own queries (evenly
    /// spaced, the last included): per KV head, the mean over the sampled queries and the heads
    /// of its group of each query's exact softmax attention over the past entries (every entry
    /// ending before `segmentStart`), summed per block; entropy over 8-token units as in
    /// `profile`.
    ///
    /// Why: the pooled max/min query of a 512-token segment stands for no query in it. Heads
    /// that copy (induction heads on repeated text) point each query at its own earlier
    /// occurrence, and a pooled query cannot find those sources; sampled queries find theirs, and
    /// with one sample per 16-token block, a contiguous copy source is hit block by block.
    ///
    /// Cost per KV head and segment: samples × group × P × headDim multiply-accumulates for the
    /// logits (P past entries) against 2 × 512 × group × P × headDim for the dense segment, i.e.
    /// samples / 1024 of it (32 samples: 3 %).
    public func sampledProfile(layer: Int, queries: AttentionQueries, segmentStart: Int, kv: KVSequence,
                               sampleCount: Int) -> SegmentProfile {
        let kvHeads = geometry.kvHeadCount
        let group = geometry.groupSize
        let headDim = geometry.headDim
        let samples = Self.sampledTokens(tokenCount: queries.tokenCount, sampleCount: sampleCount)
        let rows = samples.count
        let scale = geometry.scale
        // Per (KV head, group member): the summed softmax of its sampled queries per past entry.
        var entryMass = [[Float]](repeating: [], count: kvHeads * group)
        entryMass.withUnsafeMutableBufferPointer { massSlots in
            threads.run(tasks: kvHeads * group) { task, thread in
                let kvHead = task / group
                let head = kvHead * group + task % group
                kv.withBlockList(layer: layer, kvHead: kvHead) { list in
                    let past = SparseAttention.pastBlockCount(list: list, ownStart: segmentStart)
                    let entries = (0..<past).reduce(0) { $0 + Int(list.fills[$1]) }
                    var accumulated = [Float](repeating: 0, count: entries)
                    if entries > 0 && rows > 0 {
                        let work = self.scratch[thread]
                        work.ensure(logits: rows * entries, queries: rows * headDim, block: KVLayout.blockTokens * headDim)
                        for (row, token) in samples.enumerated() {
                            (work.queries + row * headDim).update(from: queries.base + token * queries.tokenStride + head * headDim,
                                                                  count: headDim)
                        }
                        var pastList = list
                        pastList.blockCount = Int32(past)
                        ei_kv_logits(work.queries, headDim, Int32(rows), Int32(headDim), scale, &pastList, work.logits, entries,
                                     work.block)
                        accumulated.withUnsafeMutableBufferPointer { accumulator in
                            for row in 0..<rows {
                                ei_softmax_accumulate(work.logits + row * entries, Int32(entries), 1, accumulator.baseAddress!)
                            }
                        }
                    }
                    massSlots[task] = accumulated
                }
            }
        }
        var masses: [[Float]] = [], positions: [[Int32]] = [], entropies: [Double] = []
        var logitMultiplyAccumulates = 0
        for kvHead in 0..<kvHeads {
            kv.withBlockList(layer: layer, kvHead: kvHead) { list in
                let past = SparseAttention.pastBlockCount(list: list, ownStart: segmentStart)
                let total = Float(rows * group)
                var mass = [Float](repeating: 0, count: past)
                var unitMass: [Double] = []
                var entry = 0
                for block in 0..<past {
                    let fill = Int(list.fills[block])
                    for unit in 0..<2 where unit * KVLayout.selectionBlockTokens < fill {
                        var sum: Float = 0
                        for offset in unit * KVLayout.selectionBlockTokens..<min(fill, (unit + 1) * KVLayout.selectionBlockTokens) {
                            for member in 0..<group { sum += entryMass[kvHead * group + member][entry + offset] }
                        }
                        mass[block] += sum / total
                        unitMass.append(Double(sum / total))
                    }
                    entry += fill
                }
                logitMultiplyAccumulates += rows * group * entry * headDim
                masses.append(mass)
                positions.append((0..<past).map { list.firstPositions[$0] })
                entropies.append(unitMass.reduce(0) { $1 > 0 ? $0 - $1 * log($1) : $0 })
            }
        }
        return SegmentProfile(segmentStart: segmentStart, blockMass: masses, blockFirstPositions: positions,
                              entropy: entropies, multiplyAccumulates: logitMultiplyAccumulates)
    }

    /// Profiles the segment that starts at `segmentStart` from the queries it holds (`queries`,
    /// positions ≥ segmentStart) against the past blocks of `layer` (those ending before
    /// segmentStart).
    public func profile(layer: Int, queries: AttentionQueries, segmentStart: Int, kv: KVSequence,
                        scale: Float) -> SegmentProfile {
        let kvHeads = geometry.kvHeadCount
        let group = geometry.groupSize
        let headDim = geometry.headDim
        var masses = [[Float]](repeating: [], count: kvHeads)
        var positions = [[Int32]](repeating: [], count: kvHeads)
        var entropies = [Double](repeating: 0, count: kvHeads)
        var pastUnits = [Int](repeating: 0, count: kvHeads)
        let summaryBase = UnsafePointer(kv.pool.summary(0))
        let summaryStride = kv.layout.summaryBytesPerBlock / 2
        // Each KV head writes only its own slots.
        masses.withUnsafeMutableBufferPointer { massSlots in
            positions.withUnsafeMutableBufferPointer { positionSlots in
                entropies.withUnsafeMutableBufferPointer { entropySlots in
                    pastUnits.withUnsafeMutableBufferPointer { unitSlots in
                        threads.run(tasks: kvHeads) { kvHead in
                            // Midpoint of the pooled max and min query of each head of the group.
                            let width = group * headDim
                            var high = [Float](repeating: -.infinity, count: width)
                            var low = [Float](repeating: .infinity, count: width)
                            for token in 0..<queries.tokenCount {
                                let row = queries.base + token * queries.tokenStride + kvHead * width
                                for index in 0..<width {
                                    high[index] = max(high[index], row[index])
                                    low[index] = min(low[index], row[index])
                                }
                            }
                            let mids = (0..<width).map { (high[$0] + low[$0]) / 2 }
                            kv.withBlockList(layer: layer, kvHead: kvHead) { list in
                                let past = SparseAttention.pastBlockCount(list: list, ownStart: segmentStart)
                                var scores = [Float](repeating: 0, count: 2 * past)
                                if past > 0 {
                                    ei_profile_scores(mids, Int32(group), Int32(headDim), scale, summaryBase, summaryStride,
                                                      list.blockIDs, Int32(past), &scores)
                                }
                                var firsts = [Int32](repeating: 0, count: past)
                                var valid = 0
                                for block in 0..<past {
                                    firsts[block] = list.firstPositions[block]
                                    let fill = Int(list.fills[block])
                                    for unit in 0..<2 where unit * KVLayout.selectionBlockTokens >= fill {
                                        scores[2 * block + unit] = -.infinity
                                    }
                                    valid += (fill + KVLayout.selectionBlockTokens - 1) / KVLayout.selectionBlockTokens
                                }
                                let (mass, entropy) = Self.blockDistribution(unitScores: scores)
                                massSlots[kvHead] = mass
                                positionSlots[kvHead] = firsts
                                entropySlots[kvHead] = entropy
                                unitSlots[kvHead] = valid
                            }
                        }
                    }
                }
            }
        }
        let units = pastUnits.reduce(0, +)
        let pooling = queries.tokenCount * geometry.queryHeadCount * headDim
        return SegmentProfile(segmentStart: segmentStart, blockMass: masses, blockFirstPositions: positions,
                              entropy: entropies, multiplyAccumulates: pooling + units * group * 2 * headDim)
    }

    /// Softmax over unit scores (-inf = absent unit), summed into 16-token block masses, and the
    /// entropy of the unit distribution in nats.
    static func blockDistribution(unitScores: [Float]) -> (mass: [Float], entropy: Double) {
        let blocks = unitScores.count / 2
        guard let highest = unitScores.max(), highest > -.infinity else { return ([Float](repeating: 0, count: blocks), 0) }
        var probabilities = [Double](repeating: 0, count: unitScores.count)
        var total = 0.0
        for (index, score) in unitScores.enumerated() where score > -.infinity {
            let value = exp(Double(score - highest))
            probabilities[index] = value
            total += value
        }
        var entropy = 0.0
        var mass = [Float](repeating: 0, count: blocks)
        for index in probabilities.indices {
            let p = probabilities[index] / total
            if p > 0 { entropy -= p * log(p) }
            mass[index / 2] += Float(p)
        }
        return (mass, entropy)
    }
}
