import Kernels
import KVMemory

/// Attention work of a forward pass, in query-key pairs counted per query head.
public struct AttentionWork: Sendable, Equatable {
    /// Pairs actually computed.
    public var pairsComputed = 0
    /// Pairs dense causal attention would compute for the same queries.
    public var pairsDense = 0
    /// Multiply-accumulates spent on entropy profiles.
    public var profileMultiplyAccumulates = 0

    public init() {}

    public var pairsSkipped: Int { pairsDense - pairsComputed }

    public static func += (a: inout AttentionWork, b: AttentionWork) {
        a.pairsComputed += b.pairsComputed
        a.pairsDense += b.pairsDense
        a.profileMultiplyAccumulates += b.profileMultiplyAccumulates
    }

    /// Dense pairs of `tokenCount` queries starting at `firstPosition` over `queryHeadCount` heads.
    public static func densePairs(firstPosition: Int, tokenCount: Int, queryHeadCount: Int) -> Int {
        queryHeadCount * (tokenCount * firstPosition + tokenCount * (tokenCount + 1) / 2)
    }
}

/// One layer of prefill attention under a sparse policy.
///
/// The prefill run is cut at absolute multiples of `policy.segmentTokens` into query segments
/// (the engine schedules whole segments; a run that starts inside a segment, e.g. after a
/// prefix-cache hit that is not segment-aligned, forms a piece whose own blocks start at the
/// segment's absolute start, so it never sees more or less of the past than the whole segment
/// would). A segment is dense when it starts before `denseBelowTokens`, when its layer is below
/// `denseLayers`, or at/after `denseFromPosition` (the prompt's last segment). Otherwise each KV
/// head attends to its selected past blocks plus the segment's own blocks (`SparseAttention`).
///
/// Policies:
/// - `entropy` and `uniform` profile each segment against the blocks before it (causal) and
///   select per KV head (`BlockSelection`);
/// - `reference` profiles every segment of the run first (unscaled scores), classifies heads as
///   rigid or dynamic over all of them and runs the budget recurrence (`ReferenceBudget`); it
///   treats the run as the whole prompt and its last segment as dense, so the engine runs
///   reference prompts unchunked and without prefix reuse.
public final class SparsePrefill: @unchecked Sendable {
    public let dense: DenseAttention
    public let sparse: SparseAttention
    public let profiler: EntropyProfiler
    public var geometry: AttentionGeometry { dense.geometry }

    public init(dense: DenseAttention, threads: ThreadPool) {
        self.dense = dense
        sparse = SparseAttention(geometry: dense.geometry, threads: threads)
        profiler = EntropyProfiler(geometry: dense.geometry, threads: threads)
    }

    /// Optional observer of every sparse decision (for `entropyinfer profile` and tests):
    /// (layer, profile, selections or nil when the segment ran dense).
    public var observer: ((Int, SegmentProfile, [[Int32]]?) -> Void)?

    public func run(layer: Int, policy: AttentionPolicy, queries: AttentionQueries, kv: KVSequence,
                    output: AttentionOutput, denseFromPosition: Int = .max) -> AttentionWork {
        let heads = geometry.queryHeadCount
        var work = AttentionWork()
        work.pairsDense = AttentionWork.densePairs(firstPosition: queries.firstPosition, tokenCount: queries.tokenCount,
                                                   queryHeadCount: heads)
        // A stream split per query head (GQA-expanded compression) has no single block list to
        // profile: such a cache attends densely.
        if policy.isDense || layer < policy.denseLayers || kv.hasSplitStreams(layer: layer) {
            dense.run(layer: layer, queries: queries, kv: kv, output: output)
            work.pairsComputed = work.pairsDense
            return work
        }
        let pieces = Self.pieces(firstPosition: queries.firstPosition, tokenCount: queries.tokenCount,
                                 segmentTokens: policy.segmentTokens)
        let last = pieces.count - 1
        var referenceCounts: [Int] = []
        var referenceProfiles: [SegmentProfile?] = []
        if policy.kind == .reference {
            (referenceCounts, referenceProfiles) = referencePlan(layer: layer, policy: policy, queries: queries,
                                                                 pieces: pieces, kv: kv, work: &work)
        }
        for (index, piece) in pieces.enumerated() {
            let pieceQueries = Self.slice(queries, piece)
            let pieceOutput = AttentionOutput(base: output.base + (piece.firstPosition - queries.firstPosition) * output.tokenStride,
                                              tokenStride: output.tokenStride)
            let pieceDense = AttentionWork.densePairs(firstPosition: piece.firstPosition, tokenCount: piece.tokenCount,
                                                      queryHeadCount: heads)
            let isDense = piece.segmentStart < policy.denseBelowTokens || piece.segmentStart == 0
                || (policy.kind == .reference ? index == last : piece.segmentStart >= denseFromPosition)
            var selections: [[Int32]]? = nil
            var profile: SegmentProfile? = nil
            if !isDense {
                switch policy.kind {
                case .reference:
                    profile = referenceProfiles[index]
                    selections = BlockSelection.topK(profile!, blocks: referenceCounts[index])
                case .entropy, .uniform:
                    let measured = policy.kind == .entropy && policy.profileQueries > 0
                        ? profiler.sampledProfile(layer: layer, queries: pieceQueries, segmentStart: piece.segmentStart, kv: kv,
                                                  sampleCount: policy.profileQueries)
                        : profiler.profile(layer: layer, queries: pieceQueries, segmentStart: piece.segmentStart,
                                           kv: kv, scale: geometry.scale)
                    work.profileMultiplyAccumulates += measured.multiplyAccumulates
                    profile = measured
                    selections = policy.kind == .entropy ? BlockSelection.entropy(measured, policy: policy)
                                                         : BlockSelection.uniform(measured, policy: policy)
                case .dense:
                    break
                }
            }
            if let selections {
                work.pairsComputed += sparse.run(layer: layer, queries: pieceQueries, ownStart: piece.segmentStart,
                                                 selections: selections, kv: kv, output: pieceOutput)
            } else {
                dense.run(layer: layer, queries: pieceQueries, kv: kv, output: pieceOutput)
                work.pairsComputed += pieceDense
            }
            if let observer, let profile { observer(layer, profile, selections) }
        }
        return work
    }

    /// The reference rule needs every segment's entropy before any selection: profiles of all
    /// pieces (unscaled scores), then per-segment block counts (maximum over heads).
    private func referencePlan(layer: Int, policy: AttentionPolicy, queries: AttentionQueries,
                               pieces: [Piece], kv: KVSequence, work: inout AttentionWork) -> ([Int], [SegmentProfile?]) {
        var profiles: [SegmentProfile?] = []
        var entropies = [[Double]](repeating: [], count: geometry.kvHeadCount)
        for piece in pieces {
            if piece.segmentStart == 0 {
                profiles.append(nil)
                for head in entropies.indices { entropies[head].append(0) }
                continue
            }
            let profile = profiler.profile(layer: layer, queries: Self.slice(queries, piece), segmentStart: piece.segmentStart,
                                           kv: kv, scale: 1)
            work.profileMultiplyAccumulates += profile.multiplyAccumulates
            profiles.append(profile)
            for head in entropies.indices { entropies[head].append(profile.entropy[head]) }
        }
        var counts = ReferenceBudget.segmentBlockCounts(entropies: entropies, policy: policy)
        for (index, profile) in profiles.enumerated() {
            // Never more than the blocks the segment can see.
            counts[index] = min(counts[index], profile?.blockMass.first?.count ?? 0)
        }
        return (counts, profiles)
    }

    struct Piece {
        var segmentStart: Int
        var firstPosition: Int
        var tokenCount: Int
    }

    /// [firstPosition, firstPosition + tokenCount) cut at multiples of `segmentTokens`.
    static func pieces(firstPosition: Int, tokenCount: Int, segmentTokens: Int) -> [Piece] {
        var result: [Piece] = []
        var position = firstPosition
        let end = firstPosition + tokenCount
        while position < end {
            let segmentStart = position / segmentTokens * segmentTokens
            let pieceEnd = min(end, segmentStart + segmentTokens)
            result.append(Piece(segmentStart: segmentStart, firstPosition: position, tokenCount: pieceEnd - position))
            position = pieceEnd
        }
        return result
    }

    static func slice(_ queries: AttentionQueries, _ piece: Piece) -> AttentionQueries {
        AttentionQueries(base: queries.base + (piece.firstPosition - queries.firstPosition) * queries.tokenStride,
                         tokenStride: queries.tokenStride, tokenCount: piece.tokenCount, firstPosition: piece.firstPosition)
    }
}
