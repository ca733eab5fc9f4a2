import Attention
import CKernels
import Foundation
import Kernels
import KVMemory
import Testing

/// Scoring, decode attention over compacted caches, and when each policy compresses.
@Suite struct KVCompressionTests {
    /// A one-layer cache of `weights.count` entries whose logits against the query (4, 0, ...)
    /// at scale 1/4 are ln(weight): each query's softmax is proportional to the weights.
    static func weightedCache(_ weights: [Double]) throws -> (KVSequence, ObservationWindow, AttentionGeometry) {
        let geometry = AttentionGeometry(queryHeadCount: 1, kvHeadCount: 1, headDim: 16)
        let layout = KVLayout(layerCount: 1, kvHeadCount: 1, headDim: 16, dataType: .f32)
        let pool = try KVBlockPool(layout: layout, budgetBytes: 1 << 20)
        let kv = KVSequence(pool: pool)
        var keys = [Float](repeating: 0, count: weights.count * 16)
        for (entry, weight) in weights.enumerated() { keys[entry * 16] = Float(log(weight)) }
        let values = [Float](repeating: 1, count: weights.count * 16)
        try kv.reserve(appending: weights.count)
        kv.append(layer: 0, count: weights.count, keys: keys, values: values, rowStride: 16)
        kv.advance(to: weights.count)
        let window = ObservationWindow(capacity: 3, layerCount: 1, queryWidth: 16)
        var query = [Float](repeating: 0, count: weights.count * 16)
        for token in 0..<weights.count { query[token * 16] = 4 }
        query.withUnsafeBufferPointer {
            window.record(layer: 0, queries: AttentionQueries(base: $0.baseAddress!, tokenStride: 16, tokenCount: weights.count,
                                                              firstPosition: 0))
        }
        return (kv, window, geometry)
    }

    /// Hand-computed scores of 2 observation queries at positions 5 and 6 over 8 entries of
    /// weights w = (4, 1, 1, 2, 8, 1, 1, 2): the released latent window, whose mask lets each query
    /// see one entry past itself (limit offset 1: query 5 normalises over entries 0..6, sum 18,
    /// query 6 over 0..7, sum 20), then causally (offset 0: over 0..5, 17, and 0..6, 18) as a plain,
    /// a weighted (`older_query_weight`) and a block-max (`observation_reduction` max) mean.
    @Test func latentScoresFixture() throws {
        let weights: [Double] = [4, 1, 1, 2, 8, 1, 1, 2]
        let (kv, window, geometry) = try Self.weightedCache(weights)
        let scorer = ObservationScorer(geometry: geometry, threads: ThreadPool(threadCount: 1))
        let slots = window.slots(endingAt: 7, count: 2)
        #expect(slots.map(\.position) == [5, 6])

        let released = scorer.scores(layer: 0, kv: kv, window: window, slots: slots, limitOffset: 1)[0][0]
        let releasedExpected = weights.enumerated().map { entry, w in
            entry <= 6 ? w * (1.0 / 18 + 1.0 / 20) / 2 : w / 20 / 2
        }
        for (got, want) in zip(released, releasedExpected) { #expect(abs(Double(got) - want) < 1e-6 * max(1, want * 10)) }

        let causal = scorer.scores(layer: 0, kv: kv, window: window, slots: slots, limitOffset: 0)[0][0]
        let causalExpected = weights.enumerated().map { entry, w in
            entry <= 5 ? w * (1.0 / 17 + 1.0 / 18) / 2 : entry == 6 ? w / 18 / 2 : 0
        }
        for (got, want) in zip(causal, causalExpected) { #expect(abs(Double(got) - want) < 1e-6) }

        // Weighted (`older_query_weight`): query 5 counts 1, query 6 counts 3, so each entry scores
        // (1 · its causal share under query 5 + 3 · under query 6) / 4.
        let weighted = scorer.scores(layer: 0, kv: kv, window: window, slots: slots, rowWeights: [1, 3])[0][0]
        let weightedExpected = weights.enumerated().map { entry, w in
            (entry <= 5 ? w / 17 : 0) / 4 + (entry <= 6 ? 3 * w / 18 : 0) / 4
        }
        for (got, want) in zip(weighted, weightedExpected) { #expect(abs(Double(got) - want) < 1e-6) }
        #expect(scorer.scores(layer: 0, kv: kv, window: window, slots: slots, rowWeights: [2, 2])[0][0] == causal,
                "equal weights: the plain mean, bit for bit")
        let newestAlone = scorer.scores(layer: 0, kv: kv, window: window, slots: [slots[1]])[0][0]
        #expect(scorer.scores(layer: 0, kv: kv, window: window, slots: slots, rowWeights: [0, 1])[0][0] == newestAlone,
                "a query without weight is dropped: the newest query alone, bit for bit")
        #expect(scorer.scores(layer: 0, kv: kv, window: window, slots: slots, rowWeights: [0, 1], rowBlocks: [0, 1])[0][0]
                == newestAlone, "a block without weight is left out")
        // In blocks (`observation_reduction` max): each query its own block, the larger share wins.
        let blocked = scorer.scores(layer: 0, kv: kv, window: window, slots: slots, rowBlocks: [0, 1])[0][0]
        let blockedExpected = weights.enumerated().map { entry, w in max(entry <= 5 ? w / 17 : 0, entry <= 6 ? w / 18 : 0) }
        for (got, want) in zip(blocked, blockedExpected) { #expect(abs(Double(got) - want) < 1e-6) }
        #expect(scorer.scores(layer: 0, kv: kv, window: window, slots: slots, rowBlocks: [0, 0])[0][0] == causal)
        let apart = scorer.blockScores(layer: 0, kv: kv, window: window, slots: slots, rowBlocks: [0, 1])[0][0]
        #expect(apart.count == 2 && zip(apart[0], apart[1]).map { max($0, $1) } == blocked, "the block means, kept apart")
        for (got, want) in zip(apart[1], weights.enumerated().map { entry, w in entry <= 6 ? w / 18 : 0 }) {
            #expect(abs(Double(got) - want) < 1e-6)
        }

        // The latent selection on the released scores, budget 5, window 2: candidates 0..5 pool to
        // c·(1.2, 1.6, 3.2, 2.6, 2.4, 2.2) (avg pool 5, zero padding counted), so 2, 3, 4 win
        // and entry 0 — the second-largest raw score — is dropped; 6 and 7 are the window.
        #expect(KVCompressionSelection.snapKV(scores: released, budget: 5, window: 2, kernel: 5) == [2, 3, 4, 6, 7])
    }

    /// Random keys, compacted and split lanes: the scorer against a double-precision softmax, at
    /// every kernel level the CPU has.
    @Test(arguments: [EI_ISA_PORTABLE, EI_ISA_AVX2, EI_ISA_AVX512])
    func scorerMatchesAReferenceOnCompactedAndSplitStreams(isa: ei_isa) throws {
        guard isa.rawValue <= ei_cpu_best_isa().rawValue else { return }
        ei_set_active_isa(isa)
        defer { ei_set_thread_isa_override(-1) }
        let geometry = AttentionGeometry(queryHeadCount: 4, kvHeadCount: 2, headDim: 32)
        let layout = KVLayout(layerCount: 1, kvHeadCount: 2, headDim: 32)
        let pool = try KVBlockPool(layout: layout, budgetBytes: 4 << 20)
        let kv = KVSequence(pool: pool)
        var random = TestRandom(state: 11)
        let tokens = 300
        let keys = random.array(tokens * 64, scale: 2), values = random.array(tokens * 64)
        try kv.reserve(appending: tokens)
        kv.append(layer: 0, count: tokens, keys: keys, values: values, rowStride: 64)
        kv.advance(to: tokens)
        let window = ObservationWindow(capacity: 9, layerCount: 1, queryWidth: 128)
        let queries = random.array(tokens * 128, scale: 2)
        queries.withUnsafeBufferPointer {
            window.record(layer: 0, queries: AttentionQueries(base: $0.baseAddress!, tokenStride: 128, tokenCount: tokens,
                                                              firstPosition: 0))
        }
        let kept0 = (0..<300).filter { $0 % 3 == 0 || $0 > 290 }.map { Int32($0) }
        #expect(kv.compact(layer: 0, kvHead: 0, keep: [kept0]))
        let kept1a = (0..<300).filter { $0 % 5 == 1 || $0 > 292 }.map { Int32($0) }
        let kept1b = (0..<300).filter { $0 < 40 || $0 > 280 }.map { Int32($0) }
        #expect(kv.compact(layer: 0, kvHead: 1, keep: [kept1a, kept1b]))
        let slots = window.slots(endingAt: 299, count: 8)
        let scores = ObservationScorer(geometry: geometry, threads: ThreadPool(threadCount: 2))
            .scores(layer: 0, kv: kv, window: window, slots: slots, limitOffset: 0)
        func f16(_ x: Float) -> Double { Double(ei_f16_to_f32(ei_f32_to_f16(x))) }
        for kvHead in 0..<2 {
            for member in 0..<2 {
                let positions = kv.positions(layer: 0, kvHead: kvHead, member: kvHead == 0 ? 0 : member)
                let head = kvHead * 2 + member
                var expected = [Double](repeating: 0, count: positions.count)
                for (_, position) in slots {
                    let q = (0..<32).map { Double(queries[position * 128 + head * 32 + $0]) }
                    let visible = positions.filter { Int($0) <= position }
                    let logits = visible.map { p in
                        (0..<32).reduce(0.0) { $0 + q[$1] * f16(keys[Int(p) * 64 + kvHead * 32 + $1]) } / Double(32).squareRoot()
                    }
                    let top = logits.max()!
                    let total = logits.reduce(0) { $0 + exp($1 - top) }
                    for index in visible.indices { expected[index] += exp(logits[index] - top) / total / Double(slots.count) }
                }
                let got = scores[kvHead][member]
                #expect(got.count == positions.count)
                for (a, b) in zip(got, expected) { #expect(abs(Double(a) - b) < 1e-5 + 1e-4 * b) }
            }
        }
    }

    /// `ei_kv_logits`: the AVX-512 kernel (four rows per key load) gives the AVX2 kernel's logits
    /// bit for bit, and both match the portable one closely, on f16 and f32 streams with partly
    /// filled blocks (a compacted stream) and row counts that are not multiples of four.
    @Test(arguments: [KVDataType.f16, .f32])
    func logitKernelsAgreeAcrossLevels(dataType: KVDataType) throws {
        let headDim = 64
        let layout = KVLayout(layerCount: 1, kvHeadCount: 1, headDim: headDim, dataType: dataType)
        let kv = KVSequence(pool: try KVBlockPool(layout: layout, budgetBytes: 4 << 20))
        var random = TestRandom(state: 23)
        let tokens = 203
        try kv.reserve(appending: tokens)
        kv.append(layer: 0, count: tokens, keys: random.array(tokens * headDim, scale: 2), values: random.array(tokens * headDim),
                  rowStride: headDim)
        kv.advance(to: tokens)
        let kept: [Int32] = (0..<tokens).filter { $0 % 7 != 3 && $0 % 11 != 5 }.map { Int32($0) }
        #expect(kv.compact(layer: 0, kvHead: 0, keep: [kept]))
        let entries = kv.entryCount(layer: 0, kvHead: 0)
        func logits(_ isa: ei_isa, rows: Int) -> [Float] {
            ei_set_active_isa(isa)
            defer { ei_set_thread_isa_override(-1) }
            var queryRandom = TestRandom(state: 5)
            let queries = queryRandom.array(rows * headDim, scale: 2)
            var out = [Float](repeating: .nan, count: rows * entries)
            var scratch = [Float](repeating: 0, count: 16 * headDim)
            kv.withBlockList(layer: 0, kvHead: 0) { list in
                var list = list
                ei_kv_logits(queries, headDim, Int32(rows), Int32(headDim), 0.125, &list, &out, entries, &scratch)
            }
            return out
        }
        for rows in [1, 4, 7, 13] {
            let portable = logits(EI_ISA_PORTABLE, rows: rows)
            #expect(!portable.contains { $0.isNaN })
            guard ei_cpu_best_isa().rawValue >= EI_ISA_AVX2.rawValue else { continue }
            let avx2 = logits(EI_ISA_AVX2, rows: rows)
            for (a, b) in zip(avx2, portable) {
                let tolerance: Float = 1e-4 * max(1, abs(b))
                #expect(abs(a - b) < tolerance)
            }
            guard ei_cpu_best_isa().rawValue >= EI_ISA_AVX512.rawValue else { continue }
            let avx512 = logits(EI_ISA_AVX512, rows: rows)
            let same = avx512.map(\.bitPattern) == avx2.map(\.bitPattern)
            #expect(same, "\(rows) rows")
        }
    }

    /// `KeyNovelty.scores` reads a compacted stream's keys in place (f16 and f32 blocks, two KV
    /// heads, several blocks) and agrees with the plain reference on the same keys; the reference
    /// itself on a hand fixture: keys (1, 0), (1, 0), (0, 1) have mean (2/3, 1/3), so cosines
    /// 2/√5 and 1/√5.
    @Test(arguments: [KVDataType.f16, .f32])
    func keyNoveltyReadsTheStreamsKeys(dataType: KVDataType) throws {
        let hand: [Float] = [1, 0, 1, 0, 0, 1]
        let handNovelty = hand.withUnsafeBufferPointer { KeyNovelty.novelty(keys: $0, headDim: 2) }
        let handExpected = [1 - 2 / 5.0.squareRoot(), 1 - 2 / 5.0.squareRoot(), 1 - 1 / 5.0.squareRoot()]
        for (got, want) in zip(handNovelty, handExpected) { #expect(abs(Double(got) - want) < 1e-6) }

        let headDim = 64, kvHeads = 2, tokens = 203
        let layout = KVLayout(layerCount: 1, kvHeadCount: kvHeads, headDim: headDim, dataType: dataType)
        let kv = KVSequence(pool: try KVBlockPool(layout: layout, budgetBytes: 8 << 20))
        var random = TestRandom(state: 41)
        // keys: (tokens, kvHeads, headDim); a shared direction so the mean is far from zero.
        let keys = (0..<(tokens * kvHeads * headDim)).map { index in random.next() + (index % headDim == 3 ? 2 : 0) }
        try kv.reserve(appending: tokens)
        kv.append(layer: 0, count: tokens, keys: keys, values: random.array(tokens * kvHeads * headDim), rowStride: kvHeads * headDim)
        kv.advance(to: tokens)
        let kept: [Int32] = (0..<tokens).filter { $0 % 5 != 2 }.map { Int32($0) }
        #expect(kv.compact(layer: 0, kvHead: 1, keep: [kept]))
        var scratch: [Float] = []
        for kvHead in 0..<kvHeads {
            let positions = kv.positions(layer: 0, kvHead: kvHead)
            var stored: [Float] = []
            for position in positions {
                for d in 0..<headDim {
                    let key = keys[(Int(position) * kvHeads + kvHead) * headDim + d]
                    stored.append(dataType == .f16 ? ei_f16_to_f32(ei_f32_to_f16(key)) : key)
                }
            }
            let expected = stored.withUnsafeBufferPointer { KeyNovelty.novelty(keys: $0, headDim: headDim) }
            let got = KeyNovelty.scores(layer: 0, kvHead: kvHead, kv: kv, headDim: headDim, scratch: &scratch)
            #expect(got.count == positions.count && got == expected, "KV head \(kvHead)")
        }
        #expect(scratch.count >= tokens * headDim)
    }

    /// `ei_softmax_accumulate`: the AVX-512 kernel leaves the AVX2 kernel's exponentials and sums
    /// bit for bit, whatever the count's remainder by 8 and 16, and both match a double softmax.
    @Test func softmaxAccumulateAgreesAcrossLevels() throws {
        var random = TestRandom(state: 31)
        for count in [1, 7, 8, 15, 16, 23, 24, 40, 203, 1_000, 4_099] {
            let logits = random.array(count, scale: 3)
            // Small starting sums, so a last-bit change of the normaliser shows in the result.
            let start = random.array(count, scale: 1e-6)
            func run(_ isa: ei_isa) -> (exponentials: [Float], accumulated: [Float]) {
                ei_set_active_isa(isa)
                defer { ei_set_thread_isa_override(-1) }
                var exponentials = logits, accumulated = start
                ei_softmax_accumulate(&exponentials, Int32(count), 0.5, &accumulated)
                return (exponentials, accumulated)
            }
            let reference = logits.map { exp(Double($0) - Double(logits.max()!)) }
            let total = reference.reduce(0, +)
            for level in [EI_ISA_PORTABLE, EI_ISA_AVX2] where level.rawValue <= ei_cpu_best_isa().rawValue {
                let accumulated = run(level).accumulated
                for index in 0..<count {
                    let expected = Double(start[index]) + 0.5 * reference[index] / total
                    #expect(abs(Double(accumulated[index]) - expected) < 1e-6 * expected + 1e-9, "count \(count)")
                }
            }
            guard ei_cpu_best_isa().rawValue >= EI_ISA_AVX512.rawValue else { continue }
            let (avx2, avx512) = (run(EI_ISA_AVX2), run(EI_ISA_AVX512))
            let sameExponentials = avx512.exponentials.map(\.bitPattern) == avx2.exponentials.map(\.bitPattern)
            let sameSums = avx512.accumulated.map(\.bitPattern) == avx2.accumulated.map(\.bitPattern)
            #expect(sameExponentials && sameSums, "count \(count)")
        }
    }

    /// Decode attention over a compacted stream is bit-identical to dense attention over a fresh
    /// cache that holds only the kept entries (same packing from slot 0), and a split stream's
    /// query heads each see only their own lane.
    @Test func decodeAttentionReadsOnlyKeptEntries() throws {
        let geometry = AttentionGeometry(queryHeadCount: 4, kvHeadCount: 2, headDim: 16)
        let layout = KVLayout(layerCount: 1, kvHeadCount: 2, headDim: 16)
        let threads = ThreadPool(threadCount: 2)
        let attention = DenseAttention(geometry: geometry, threads: threads)
        var random = TestRandom(state: 5)
        let tokens = 700
        let keys = random.array(tokens * 32, scale: 2), values = random.array(tokens * 32)
        let query = random.array(64, scale: 2)
        let pool = try KVBlockPool(layout: layout, budgetBytes: 8 << 20)

        func output(_ kv: KVSequence) -> [Float] {
            var out = [Float](repeating: .nan, count: 64)
            query.withUnsafeBufferPointer { q in
                out.withUnsafeMutableBufferPointer { o in
                    attention.run(layer: 0, queries: AttentionQueries(base: q.baseAddress!, tokenStride: 64, tokenCount: 1,
                                                                      firstPosition: kv.positionCount - 1),
                                  kv: kv, output: AttentionOutput(base: o.baseAddress!, tokenStride: 64))
                }
            }
            return out
        }
        func cache(_ rows: [Int]) throws -> KVSequence {
            let kv = KVSequence(pool: pool)
            try kv.reserve(appending: rows.count)
            let k = rows.flatMap { Array(keys[$0 * 32..<($0 + 1) * 32]) }, v = rows.flatMap { Array(values[$0 * 32..<($0 + 1) * 32]) }
            kv.append(layer: 0, count: rows.count, keys: k, values: v, rowStride: 32)
            kv.advance(to: rows.count)
            return kv
        }
        let kept = (0..<tokens).filter { $0 % 2 == 0 || $0 >= 650 }     // 375 entries: the decode path's chunks
        let full = try cache(Array(0..<tokens))
        #expect(full.compact(layer: 0, kvHead: 0, keep: [kept.map { Int32($0) }]))
        #expect(full.compact(layer: 0, kvHead: 1, keep: [kept.map { Int32($0) }]))
        let fresh = try cache(kept)
        #expect(output(full) == output(fresh), "bit-identical")

        // Split KV head 1: query head 2 reads the kept set, query head 3 only the last 300 entries.
        let split = try cache(Array(0..<tokens))
        #expect(split.compact(layer: 0, kvHead: 1, keep: [kept.map { Int32($0) }, (400..<tokens).map { Int32($0) }]))
        let last = try cache(Array(400..<tokens))
        let splitOutput = output(split), freshOutput = output(fresh), lastOutput = output(last), fullOutput = output(try cache(Array(0..<tokens)))
        #expect(Array(splitOutput[0..<32]) == Array(fullOutput[0..<32]), "KV head 0 untouched")
        #expect(Array(splitOutput[32..<48]) == Array(freshOutput[32..<48]), "query head 2 over its lane")
        #expect(Array(splitOutput[48..<64]) == Array(lastOutput[48..<64]), "query head 3 over its lane")
    }

    // MARK: - When each policy compresses

    /// Drives a compressor without a model: random keys, values and queries appended position by
    /// position, as the forward pass would.
    final class Driver {
        let geometry = AttentionGeometry(queryHeadCount: 4, kvHeadCount: 2, headDim: 16)
        let layers = 2
        let kv: KVSequence
        let compressor: KVCompressor
        var random = TestRandom(state: 3)

        init(_ policy: KVCompressionPolicy, poolBytes: Int = 8 << 20) throws {
            let pool = try KVBlockPool(layout: KVLayout(layerCount: layers, kvHeadCount: 2, headDim: 16), budgetBytes: poolBytes)
            kv = KVSequence(pool: pool)
            compressor = KVCompressor(policy: policy, scorer: ObservationScorer(geometry: geometry, threads: ThreadPool(threadCount: 2)),
                                      layerCount: layers)
        }

        /// Processes `count` tokens in one forward pass; returns whether the policy compacted.
        @discardableResult
        func forward(_ count: Int, prompt: Int) -> Bool {
            try! kv.reserve(appending: count)
            let keys = random.array(count * 32, scale: 2), values = random.array(count * 32), queries = random.array(count * 64, scale: 2)
            for layer in 0..<layers {
                kv.append(layer: layer, count: count, keys: keys, values: values, rowStride: 32)
                queries.withUnsafeBufferPointer {
                    compressor.window?.record(layer: layer, queries: AttentionQueries(
                        base: $0.baseAddress!, tokenStride: 64, tokenCount: count, firstPosition: kv.positionCount))
                }
            }
            kv.advance(to: kv.positionCount + count)
            return compressor.afterForward(kv: kv, promptTokens: prompt)
        }
    }

    static func policy(_ kind: KVCompressionPolicy.Kind, budget: Int) -> KVCompressionPolicy {
        var policy = KVCompressionPolicy(kind: kind)
        policy.budget = budget; policy.windowTokens = 8; policy.decodeGap = 4; policy.sinkTokens = 2; policy.slackTokens = 8
        return policy
    }

    /// latent: nothing until decode step N+1 = 5 (position S+N = 68 in the cache), then every
    /// query head keeps its own 24 entries, the last 8 positions among them; never again.
    @Test func latentCompressesOnceAfterStepNPlusOneExpandingGQA() throws {
        let driver = try Driver(Self.policy(.latent, budget: 24))
        #expect(!(driver.forward(64, prompt: 64)))
        for _ in 0..<4 { #expect(!(driver.forward(1, prompt: 64))) }
        #expect(driver.forward(1, prompt: 64))
        #expect(driver.compressor.statistics.firstCompressionAt == 69)
        for layer in 0..<2 {
            for kvHead in 0..<2 {
                #expect(driver.kv.memberCount(layer: layer, kvHead: kvHead) == 2)
                for member in 0..<2 {
                    let positions = driver.kv.positions(layer: layer, kvHead: kvHead, member: member)
                    #expect(positions.count == 24)
                    #expect(Array(positions.suffix(8)) == Array(61...68).map { Int32($0) })
                }
            }
        }
        for _ in 0..<30 { #expect(!(driver.forward(1, prompt: 64))) }
        #expect(driver.kv.entryCount(layer: 1, kvHead: 1, member: 1) == 54, "no later eviction")
    }

    @Test func snapKVCompressesAtTheEndOfPrefillOnly() throws {
        var policy = Self.policy(.snapkv, budget: 24)
        policy.expandGQA = false
        let driver = try Driver(policy)
        #expect(!(driver.forward(32, prompt: 64)), "prefill not finished")
        #expect(driver.forward(32, prompt: 64))
        for layer in 0..<2 {
            for kvHead in 0..<2 {
                #expect(driver.kv.memberCount(layer: layer, kvHead: kvHead) == 1, "grouped layout")
                #expect(Array(driver.kv.positions(layer: layer, kvHead: kvHead).suffix(8)) == Array(56...63).map { Int32($0) })
                #expect(driver.kv.entryCount(layer: layer, kvHead: kvHead) == 24)
            }
        }
        for _ in 0..<10 { #expect(!(driver.forward(1, prompt: 64))) }
    }

    @Test func streamingKeepsSinksAndRecentWithinBudgetPlusSlack() throws {
        let driver = try Driver(Self.policy(.streaming, budget: 20))
        #expect(driver.forward(64, prompt: 64))
        #expect(driver.kv.positions(layer: 0, kvHead: 0) == [0, 1] + (46...63).map { Int32($0) })
        var rounds = 1
        for _ in 0..<40 {
            if driver.forward(1, prompt: 64) { rounds += 1 }
            for layer in 0..<2 { #expect(driver.kv.largestEntryCount(layer: layer) <= 28) }
        }
        #expect(rounds == 1 + 40 / 9)
        #expect(Array(driver.kv.positions(layer: 1, kvHead: 1).prefix(2)) == [0, 1])
        #expect(driver.kv.positions(layer: 1, kvHead: 1).last == 103)
    }

    /// entropy: a first pass to 2 × budget at the end of a long prefill, the output-aware pass to
    /// budget once N generated queries exist, then bounded by budget + slack per head; sinks and
    /// the recent window always kept; per-head budgets sum to the layer's total.
    @Test func entropyFirstPassOutputAwarePassAndBoundedGrowth() throws {
        var policy = Self.policy(.entropy, budget: 24)
        policy.prefillBudgetFactor = 2
        let driver = try Driver(policy)
        #expect(driver.forward(200, prompt: 200))
        for layer in 0..<2 {
            let total = (0..<2).reduce(0) { $0 + driver.kv.entryCount(layer: layer, kvHead: $1) }
            #expect(total == 2 * 48, "first pass: 2 × budget per head on average")
        }
        for _ in 0..<3 { #expect(!(driver.forward(1, prompt: 200))) }
        #expect(driver.forward(1, prompt: 200), "position S+N−1 in the cache: the output-aware pass")
        let budgets = try #require(driver.compressor.budgets)
        for layer in 0..<2 {
            #expect(budgets[layer].reduce(0, +) == 48)
            for kvHead in 0..<2 {
                let positions = driver.kv.positions(layer: layer, kvHead: kvHead)
                #expect(positions.count == budgets[layer][kvHead])
                #expect(Array(positions.prefix(2)) == [0, 1], "sinks")
                #expect(Array(positions.suffix(8)) == Array(196...203).map { Int32($0) }, "recent window")
            }
        }
        var rounds = 0
        for _ in 0..<60 {
            if driver.forward(1, prompt: 200) { rounds += 1 }
            let current = try #require(driver.compressor.budgets)
            for layer in 0..<2 {
                for kvHead in 0..<2 {
                    #expect(driver.kv.entryCount(layer: layer, kvHead: kvHead) <= current[layer][kvHead] + 8)
                }
            }
        }
        #expect(rounds >= 6, "re-compressed every slack + 1 tokens (\(rounds))")
        let statistics = driver.compressor.statistics
        #expect(statistics.largestBytesAfterCompression > 0)
        #expect(statistics.seconds > 0 && statistics.longestRoundSeconds > 0 && statistics.longestRoundSeconds <= statistics.seconds,
                "rounds are timed")
    }

    /// Without the first pass (the default), nothing happens before the output-aware round.
    @Test func entropyWithoutFirstPassWaitsForTheGeneratedQueries() throws {
        let driver = try Driver(Self.policy(.entropy, budget: 24))
        #expect(!driver.forward(200, prompt: 200))
        for _ in 0..<3 { #expect(!driver.forward(1, prompt: 200)) }
        #expect(driver.forward(1, prompt: 200))
        #expect(driver.compressor.statistics.firstCompressionAt == 204)
        for layer in 0..<2 { #expect(driver.kv.largestEntryCount(layer: layer) <= 48 * 4) }
    }

    /// entropy with `observationTokens` 16 (window 8): the output-aware round keeps what the last
    /// 16 queries' scores select (the scorer and `entropyLayer` by hand on a twin cache that never
    /// compresses), not the last 8's, and the recent window stays 8 entries.
    @Test func entropyScoresWithTheObservationTokens() throws {
        var policy = Self.policy(.entropy, budget: 24)
        policy.observationTokens = 16
        #expect(policy.scoringTokens == 16 && policy.observedTokens == 17)
        let driver = try Driver(policy)
        #expect(driver.compressor.window?.capacity == 17)
        let twin = try Driver(Self.twinPolicy(policy))
        for driven in [driver, twin] {
            driven.forward(200, prompt: 200)
            for _ in 0..<3 { driven.forward(1, prompt: 200) }
        }
        #expect(driver.forward(1, prompt: 200), "the output-aware round")
        twin.forward(1, prompt: 200)
        func kept(queries: Int, layer: Int) throws -> [[Int32]] {
            var scoredBy = policy
            scoredBy.observationTokens = queries
            return try Self.keptByHand(twin: twin, policy: scoredBy, layer: layer)
        }
        var differs = false
        for layer in 0..<2 {
            let expected = try kept(queries: 16, layer: layer)
            for kvHead in 0..<2 {
                let positions = driver.kv.positions(layer: layer, kvHead: kvHead)
                #expect(positions == expected[kvHead], "layer \(layer) head \(kvHead)")
                #expect(Array(positions.suffix(8)) == Array(196...203).map { Int32($0) }, "recent window: window_tokens")
            }
            let fewer = try kept(queries: 8, layer: layer)
            differs = differs || fewer != expected
        }
        #expect(differs, "the last 8 queries alone select otherwise")
        #expect(try KVCompressionPolicy.parse("entropy:512:observation_tokens=64").scoringTokens == 64)
        #expect(try KVCompressionPolicy.parse("entropy:512:observation_tokens=8").scoringTokens == 32, "at least window_tokens")
        #expect(try KVCompressionPolicy.parse("entropy:512:observation_tokens=0").scoringTokens == 32)
        #expect(KVCompressionPolicy(kind: .entropy).scoringTokens == 128 && KVCompressionPolicy(kind: .entropy).observedTokens == 129)
        #expect(try KVCompressionPolicy.parse("latent:512:observation_tokens=64").scoringTokens == 32, "entropy only")
    }

    /// entropy with `older_query_weight`: queries older than the last `window_tokens` count
    /// this much against the recent ones' 1. At 0 the round keeps exactly what scoring with the
    /// recent window alone keeps (`observation_tokens` 0), while it still records and waits for
    /// the same queries; at 0.5 it keeps what the scorer's weighted mean selects by hand.
    @Test func entropyWeighsOlderScoringQueries() throws {
        var recentOnly = Self.policy(.entropy, budget: 24)
        recentOnly.observationTokens = 0
        var zeroWeight = Self.policy(.entropy, budget: 24)
        zeroWeight.observationTokens = 16
        zeroWeight.olderQueryWeight = 0
        var halfWeight = zeroWeight
        halfWeight.olderQueryWeight = 0.5
        #expect(halfWeight.scoringWeights(positions: Array(188...203), newest: 203, meanBudget: 24)
                == Array(repeating: 0.5, count: 8) + Array(repeating: 1, count: 8))
        #expect(zeroWeight.scoringWeights(positions: [195, 196], newest: 203, meanBudget: 24) == [0, 1])

        let drivers = try [recentOnly, zeroWeight, halfWeight, Self.twinPolicy(halfWeight)].map { try Driver($0) }
        for driver in drivers { Self.driveToTheOutputAwareRound(driver) }
        let (recent, zero, half, twin) = (drivers[0], drivers[1], drivers[2], drivers[3])
        #expect(zero.compressor.window?.capacity == 17 && recent.compressor.window?.capacity == 9)
        #expect([recent, zero, half].allSatisfy { $0.compressor.statistics.compressions == 1 })
        var halfDiffers = false
        for layer in 0..<2 {
            let halfByHand = try Self.keptByHand(twin: twin, policy: halfWeight, layer: layer)
            for kvHead in 0..<2 {
                let kept = recent.kv.positions(layer: layer, kvHead: kvHead)
                #expect(zero.kv.positions(layer: layer, kvHead: kvHead) == kept, "weight 0: the recent window's selection")
                let halfKept = half.kv.positions(layer: layer, kvHead: kvHead)
                #expect(halfKept == halfByHand[kvHead], "weight 0.5: the weighted scores' selection")
                halfDiffers = halfDiffers || halfKept != kept
            }
        }
        #expect(halfDiffers, "the older queries change the selection at weight 0.5")
        #expect(try KVCompressionPolicy.parse("entropy:512:older_query_weight=0.25").olderQueryWeight == 0.25)
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("entropy:512:older_query_weight=2") }
    }

    /// The default older-query weight follows the round's mean budget: 1 (unweighted) below
    /// `recencyWeightBudget`, 0.5 from it up, 1 whenever `observation_reduction` is not mean; an
    /// explicit weight holds at every budget. The rounds use it: at a mean budget of 2,048 the
    /// default policy keeps what an explicit 0.5 keeps, at 1,024 what an explicit 1 keeps.
    @Test func olderQueryWeightFollowsTheBudget() throws {
        let byBudget = KVCompressionPolicy(kind: .entropy)
        #expect(byBudget.olderQueryWeight == nil && byBudget.description.contains("observe=128@auto,"))
        #expect([24, 1024, 2047, 2048, 4096].map { byBudget.olderQueryWeight(meanBudget: $0) } == [1, 1, 1, 0.5, 0.5])
        #expect(byBudget.scoringWeights(positions: [0, 1], newest: 200, meanBudget: 1024) == nil, "1: unweighted")
        #expect(byBudget.scoringWeights(positions: [150, 190], newest: 200, meanBudget: 2048) == [0.5, 1])
        let explicit = try KVCompressionPolicy.parse("entropy:2048:older_query_weight=1")
        #expect(explicit.olderQueryWeight(meanBudget: 2048) == 1 && explicit.description.contains("observe=128@1.0"))
        #expect(try KVCompressionPolicy.parse("entropy:512:older_query_weight=0.25").olderQueryWeight(meanBudget: 4096) == 0.25)
        for reduction in ["max", "adaptive"] {
            #expect(try KVCompressionPolicy.parse("entropy:2048:observation_reduction=\(reduction)").olderQueryWeight(meanBudget: 2048) == 1)
        }

        // Rounds at mean budget 2,048 (default against explicit 0.5) and 1,024 (default against explicit 1).
        // `weight` nil: the policy's default.
        func keptPositions(budget: Int, weight: Double? = nil) throws -> [[Int32]] {
            let text = "entropy:\(budget):sink_tokens=2:window_tokens=8:decode_gap=4" + (weight.map { ":older_query_weight=\($0)" } ?? "")
            var policy = try KVCompressionPolicy.parse(text)
            policy.observationTokens = 16
            let driver = try Driver(policy)
            driver.forward(2600, prompt: 2600)
            for _ in 0..<policy.decodeGap { driver.forward(1, prompt: 2600) }
            #expect(driver.compressor.statistics.compressions == 1, "\(text)")
            return (0..<2).flatMap { layer in (0..<2).map { driver.kv.positions(layer: layer, kvHead: $0) } }
        }
        let auto2048 = try keptPositions(budget: 2048)
        #expect(auto2048 == (try keptPositions(budget: 2048, weight: 0.5)))
        #expect(auto2048 != (try keptPositions(budget: 2048, weight: 1)), "the weight changes what a round keeps")
        #expect(try keptPositions(budget: 1024) == (try keptPositions(budget: 1024, weight: 1)))
    }

    /// entropy with `observation_reduction` max: the scoring queries form blocks of
    /// `window_tokens` counted back from the newest, and an entry scores its largest block mean.
    /// The round keeps what that selects by hand, which differs from the plain mean's selection.
    @Test func entropyTakesTheLargestBlockMean() throws {
        var blocks = Self.policy(.entropy, budget: 24)
        blocks.observationTokens = 20
        blocks.observationReduction = .max
        // Newest 203, window 8: 196...203 are block 2, 188...195 block 1, 184...187 block 0.
        #expect(blocks.scoringBlocks(positions: Array(184...203), newest: 203)
                == Array(repeating: 0, count: 4) + Array(repeating: 1, count: 8) + Array(repeating: 2, count: 8))
        #expect(KVCompressionPolicy(kind: .entropy).scoringBlocks(positions: [0, 1], newest: 1) == nil, "mean: one block")
        var mean = blocks
        mean.observationReduction = .mean
        let drivers = try [blocks, mean, Self.twinPolicy(blocks)].map { try Driver($0) }
        for driver in drivers { Self.driveToTheOutputAwareRound(driver) }
        var differs = false
        for layer in 0..<2 {
            let byHand = try Self.keptByHand(twin: drivers[2], policy: blocks, layer: layer)
            for kvHead in 0..<2 {
                let kept = drivers[0].kv.positions(layer: layer, kvHead: kvHead)
                #expect(kept == byHand[kvHead], "layer \(layer) head \(kvHead)")
                differs = differs || kept != drivers[1].kv.positions(layer: layer, kvHead: kvHead)
            }
        }
        #expect(differs, "the block maximum selects otherwise than the mean")
        #expect(try KVCompressionPolicy.parse("entropy:512:observation_reduction=max").observationReduction == .max)
        #expect(throws: KVCompressionPolicyError.self) {
            try KVCompressionPolicy.parse("entropy:512:observation_reduction=max:older_query_weight=0.5")
        }
    }

    /// entropy with `observation_reduction` adaptive: per KV head, the round scores with every
    /// query or with the newest block alone, as `recencyChoice` decides on the block means; it
    /// keeps what that selects by hand.
    @Test func entropyChoosesItsScoringQueriesPerHead() throws {
        var adaptive = Self.policy(.entropy, budget: 24)
        adaptive.observationTokens = 24
        adaptive.observationReduction = .adaptive
        let drivers = try [adaptive, Self.twinPolicy(adaptive)].map { try Driver($0) }
        for driver in drivers { Self.driveToTheOutputAwareRound(driver) }
        for layer in 0..<2 {
            let byHand = try Self.keptByHand(twin: drivers[1], policy: adaptive, layer: layer)
            for kvHead in 0..<2 { #expect(drivers[0].kv.positions(layer: layer, kvHead: kvHead) == byHand[kvHead]) }
        }
        #expect(try KVCompressionPolicy.parse("entropy:512:observation_reduction=adaptive").description.contains("observe=128/adaptive"))
        #expect(throws: KVCompressionPolicyError.self) {
            try KVCompressionPolicy.parse("entropy:512:observation_reduction=adaptive:older_query_weight=0.5")
        }
    }

    /// `policy` with a budget no cache here reaches: a twin that records the same queries and
    /// never compresses, so its entry i is position i.
    static func twinPolicy(_ policy: KVCompressionPolicy) -> KVCompressionPolicy {
        var twin = policy
        twin.budget = 100_000
        return twin
    }

    /// A 200-token prompt and the 4 decode steps (`decode_gap`) that trigger the output-aware round.
    static func driveToTheOutputAwareRound(_ driver: Driver) {
        driver.forward(200, prompt: 200)
        for _ in 0..<4 { driver.forward(1, prompt: 200) }
    }

    /// What `policy`'s output-aware round at budget 24 keeps in `layer`, computed by hand (the
    /// scorer with the policy's query weights and blocks, the group mean, `recencyChoice` when
    /// adaptive, `entropyLayer`) on an
    /// uncompacted `twin` driven the same way.
    static func keptByHand(twin: Driver, policy: KVCompressionPolicy, layer: Int) throws -> [[Int32]] {
        let window = try #require(twin.compressor.window)
        let newest = twin.kv.positionCount - 1
        let slots = window.slots(endingAt: twin.kv.positionCount, count: policy.scoringTokens)
        let positions = slots.map(\.position)
        let scorer = ObservationScorer(geometry: twin.geometry, threads: ThreadPool(threadCount: 2))
        let rowBlocks = policy.scoringBlocks(positions: positions, newest: newest)
        let aggregated: [[Float]]
        if policy.observationReduction == .adaptive, let rowBlocks {
            let sizes = (0...rowBlocks.max()!).map { block in rowBlocks.count { $0 == block } }
            aggregated = scorer.blockScores(layer: layer, kv: twin.kv, window: window, slots: slots, rowBlocks: rowBlocks).map { members in
                let blocks = sizes.indices.map { block in KVCompressor.reduce(members.map { $0[block] }, .mean) }
                return KVCompressionSelection.recencyChoice(blocks: blocks, blockSizes: sizes, keep: 24 - 2 - 8, recent: 8).scores
            }
        } else {
            aggregated = scorer.scores(layer: layer, kv: twin.kv, window: window, slots: slots,
                                       rowWeights: policy.scoringWeights(positions: positions, newest: newest, meanBudget: 24),
                                       rowBlocks: rowBlocks).map { KVCompressor.reduce($0, .mean) }
        }
        let plan = try #require(KVCompressionSelection.entropyLayer(
            scores: aggregated, total: 48, sinks: 2, recent: 8, kernel: policy.poolingKernel,
            pooling: policy.pooling, allocation: policy.allocation, minimumHeadFraction: policy.minimumHeadFraction,
            maximumHeadFactor: policy.maximumHeadFactor, forwardDecay: policy.forwardDecay(meanBudget: 24),
            positions: (0..<2).map { twin.kv.positions(layer: layer, kvHead: $0) }))
        return plan.keep.map { $0.map { Int32($0) } }
    }

    @Test func budgetAboveTheCacheNeverCompacts() throws {
        for kind in [KVCompressionPolicy.Kind.streaming, .snapkv, .latent, .entropy] {
            let driver = try Driver(Self.policy(kind, budget: 512))
            driver.forward(100, prompt: 100)
            for _ in 0..<20 { driver.forward(1, prompt: 100) }
            #expect(driver.compressor.statistics.compressions == 0, "\(kind)")
            #expect(!driver.kv.isCompacted)
        }
    }
}
