import Attention
import CKernels
import Kernels
import KVMemory
import Testing

/// A synthetic session whose whole KV is cached, for running one query segment at a time.
struct FilledSession {
    let session: SyntheticSession
    let pool: KVBlockPool
    let sequence: KVSequence

    init(geometry: AttentionGeometry, tokenCount: Int, seed: UInt64, dataType: KVDataType = .f32) throws {
        session = SyntheticSession(geometry: geometry, layerCount: 1, tokenCount: tokenCount, seed: seed)
        let layout = KVLayout(layerCount: 1, kvHeadCount: geometry.kvHeadCount, headDim: geometry.headDim, dataType: dataType)
        pool = try KVBlockPool(layout: layout, budgetBytes: 64 << 20)
        sequence = KVSequence(pool: pool)
        try sequence.reserve(appending: tokenCount)
        session.keys.withUnsafeBufferPointer { k in
            session.values.withUnsafeBufferPointer { v in
                sequence.append(layer: 0, count: tokenCount, keys: k.baseAddress!, values: v.baseAddress!, rowStride: session.kvRow)
            }
        }
        sequence.advance(to: tokenCount)
    }

    var geometry: AttentionGeometry { session.geometry }

    /// Runs `body` with the queries of tokens [first, first+count) and an output buffer for them.
    func withSegment(first: Int, count: Int, _ body: (AttentionQueries, AttentionOutput) -> Void) -> [Float] {
        var output = [Float](repeating: .nan, count: count * session.queryRow)
        session.queries.withUnsafeBufferPointer { q in
            output.withUnsafeMutableBufferPointer { o in
                body(AttentionQueries(base: q.baseAddress! + first * session.queryRow, tokenStride: session.queryRow,
                                      tokenCount: count, firstPosition: first),
                     AttentionOutput(base: o.baseAddress!, tokenStride: session.queryRow))
            }
        }
        return output
    }

    /// Plain Swift attention of tokens [first, first+count) over exactly the positions of the
    /// selected past blocks (16 tokens each) plus [ownStart, token], in Double.
    func reference(first: Int, count: Int, ownStart: Int, selections: [[Int32]]) -> [Float] {
        let headDim = geometry.headDim
        var output = [Float](repeating: 0, count: count * session.queryRow)
        for token in first..<first + count {
            for head in 0..<geometry.queryHeadCount {
                let kvHead = head / geometry.groupSize
                var positions = selections[kvHead].flatMap { Int($0) * 16..<Int($0) * 16 + 16 }
                positions += Array(ownStart...token)
                let q = token * session.queryRow + head * headDim
                let scores = positions.map { key -> Double in
                    let k = key * session.kvRow + kvHead * headDim
                    var dot = 0.0
                    for d in 0..<headDim { dot += Double(session.queries[q + d]) * Double(session.keys[k + d]) }
                    return dot * Double(geometry.scale)
                }
                let maximum = scores.max()!
                let weights = scores.map { Foundation_exp($0 - maximum) }
                let total = weights.reduce(0, +)
                for d in 0..<headDim {
                    var sum = 0.0
                    for (index, key) in positions.enumerated() {
                        sum += weights[index] * Double(session.values[key * session.kvRow + kvHead * headDim + d])
                    }
                    output[(token - first) * session.queryRow + head * headDim + d] = Float(sum / total)
                }
            }
        }
        return output
    }
}

@Suite(.serialized) struct SparseAttentionTests {
    let geometry = AttentionGeometry(queryHeadCount: 6, kvHeadCount: 2, headDim: 64)

    @Test(arguments: [KVDataType.f16, KVDataType.f32])
    func everyBlockSelectedIsBitIdenticalToDense(dataType: KVDataType) throws {
        let threads = ThreadPool(threadCount: 2)
        let filled = try FilledSession(geometry: geometry, tokenCount: 300, seed: 11, dataType: dataType)
        let dense = DenseAttention(geometry: geometry, threads: threads)
        let sparse = SparseAttention(geometry: geometry, threads: threads)
        // A segment starting on a block boundary, and one starting inside a block.
        for (first, ownStart) in [(160, 160), (200, 192)] {
            let count = 300 - first
            let expected = filled.withSegment(first: first, count: count) { q, o in
                dense.run(layer: 0, queries: q, kv: filled.sequence, output: o)
            }
            let past = ownStart / 16
            var pairs = 0
            let actual = filled.withSegment(first: first, count: count) { q, o in
                pairs = sparse.run(layer: 0, queries: q, ownStart: ownStart,
                                   selections: Array(repeating: (0..<Int32(past)).map { $0 }, count: 2),
                                   kv: filled.sequence, output: o)
            }
            #expect(actual == expected, "segment at \(first), own blocks from \(ownStart)")
            #expect(pairs == AttentionWork.densePairs(firstPosition: first, tokenCount: count, queryHeadCount: 6))
        }
    }

    @Test func randomSelectionsMatchAttentionOverExactlyThoseKeys() throws {
        let threads = ThreadPool(threadCount: 2)
        let filled = try FilledSession(geometry: geometry, tokenCount: 260, seed: 5)
        let sparse = SparseAttention(geometry: geometry, threads: threads)
        var random = TestRandom(state: 99)
        for trial in 0..<6 {
            let ownStart = 128 + 16 * (trial % 3)         // 8 to 10 past blocks
            let first = ownStart + 3 * trial               // queries may start after earlier pieces
            let count = 260 - first
            let past = ownStart / 16
            // Different counts per head, including none.
            let selections: [[Int32]] = (0..<2).map { head in
                (0..<Int32(past)).filter { _ in trial == 5 && head == 1 ? false : random.next() > (head == 0 ? 0.3 : -0.2) }
            }
            var pairs = 0
            let actual = filled.withSegment(first: first, count: count) { q, o in
                pairs = sparse.run(layer: 0, queries: q, ownStart: ownStart, selections: selections, kv: filled.sequence, output: o)
            }
            let expected = filled.reference(first: first, count: count, ownStart: ownStart, selections: selections)
            #expect(maxAbsDifference(actual, expected) < 2e-5, "trial \(trial)")
            let expectedPairs = (0..<2).reduce(0) { total, head in
                total + 3 * (0..<count).reduce(0) { $0 + selections[head].count * 16 + (first + $1 - ownStart + 1) }
            }
            #expect(pairs == expectedPairs)
        }
    }

    /// A whole prefill run under each sparse policy: every sparse segment's output equals
    /// attention over exactly the blocks it selected (never one at or after its start) plus its
    /// own causal part; dense segments equal dense attention; the work adds up.
    @Test(arguments: [AttentionPolicy.Kind.entropy, .uniform, .reference])
    func sparsePrefillFollowsItsSelections(kind: AttentionPolicy.Kind) throws {
        let threads = ThreadPool(threadCount: 2)
        let tokenCount = 700
        let filled = try FilledSession(geometry: geometry, tokenCount: tokenCount, seed: 31)
        let dense = DenseAttention(geometry: geometry, threads: threads)
        let prefill = SparsePrefill(dense: dense, threads: threads)
        var policy = AttentionPolicy(kind: kind)
        policy.segmentTokens = 128; policy.denseBelowTokens = 256; policy.denseLayers = 0
        policy.minimumBudgetTokens = 64; policy.maximumBudgetTokens = 160; policy.sinkTokens = 16; policy.localWindowTokens = 32
        policy.uniformBudgetTokens = 96; policy.baseBudgetTokens = 64
        final class Log { var entries: [(start: Int, selections: [[Int32]]?)] = [] }
        let log = Log()
        prefill.observer = { _, profile, selections in log.entries.append((profile.segmentStart, selections)) }
        let first = kind == .reference ? 0 : 256
        var work = AttentionWork()
        let output = filled.withSegment(first: first, count: tokenCount - first) { q, o in
            work = prefill.run(layer: 0, policy: policy, queries: q, kv: filled.sequence, output: o)
        }
        let denseOutput = filled.withSegment(first: first, count: tokenCount - first) { q, o in
            dense.run(layer: 0, queries: q, kv: filled.sequence, output: o)
        }
        let sparseStarts = log.entries.compactMap { $0.selections == nil ? nil : $0.start }
        #expect(sparseStarts == (kind == .reference ? [256, 384, 512] : [256, 384, 512, 640]))
        var expectedPairs = 0
        for start in stride(from: first, to: tokenCount, by: 128) {
            let count = min(128, tokenCount - start)
            let rows = (start - first) * filled.session.queryRow..<(start - first + count) * filled.session.queryRow
            if let selections = log.entries.first(where: { $0.start == start })?.selections {
                for selection in selections { #expect(selection.allSatisfy { Int($0) * 16 + 16 <= start }) }
                let expected = filled.reference(first: start, count: count, ownStart: start, selections: selections)
                #expect(maxAbsDifference(Array(output[rows]), expected) < 2e-5, "segment at \(start)")
                expectedPairs += (0..<2).reduce(0) { total, head in
                    total + 3 * (0..<count).reduce(0) { $0 + selections[head].count * 16 + $1 + 1 }
                }
            } else {
                #expect(Array(output[rows]) == Array(denseOutput[rows]), "dense segment at \(start)")
                expectedPairs += AttentionWork.densePairs(firstPosition: start, tokenCount: count, queryHeadCount: 6)
            }
        }
        #expect(work.pairsComputed == expectedPairs)
        #expect(work.pairsDense == AttentionWork.densePairs(firstPosition: first, tokenCount: tokenCount - first, queryHeadCount: 6))
        #expect(work.pairsComputed < work.pairsDense)
        #expect(work.profileMultiplyAccumulates > 0)
    }
}
