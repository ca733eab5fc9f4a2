import Foundation
import KVMemory
import Testing

/// The policies' decisions on hand-computed fixtures, so the baselines are the released methods
/// (SnapKV `update_kv`, EntropyInfer `compress_kv`), not approximations of them.
@Suite struct KVCompressionSelectionTests {
    /// PyTorch avg_pool1d(kernel 5, stride 1, padding 2) with count_include_pad=True divides every
    /// window by 5, zeros counted at both ends.
    @Test func averagePoolingCountsPaddingAsPyTorchDoes() {
        let pooled = KVCompressionSelection.averagePool([1, 2, 3, 4, 5, 6], kernel: 5)
        // (1+2+3)/5, (1+2+3+4)/5, (1+...+5)/5, (2+...+6)/5, (3+...+6)/5, (4+5+6)/5
        let expected: [Float] = [1.2, 2.0, 3.0, 4.0, 3.6, 3.0]
        for (value, want) in zip(pooled, expected) { #expect(abs(value - want) < 1e-6) }
        #expect(KVCompressionSelection.averagePool([7, 8], kernel: 1) == [7, 8])
        #expect(KVCompressionSelection.maxPool([1, 5, 2, 0, 0, 3], kernel: 3) == [5, 5, 5, 2, 3, 3])
    }

    @Test func largestBreaksTiesTowardsTheLowerIndex() {
        #expect(KVCompressionSelection.largest([1, 3, 3, 2, 3], count: 2) == [1, 2])
        #expect(KVCompressionSelection.largest([0, 0, 0, 0], count: 3) == [0, 1, 2])
        #expect(KVCompressionSelection.largest([5, 1], count: 4) == [0, 1])
        #expect(KVCompressionSelection.largest([5, 1], count: 0) == [])
    }

    /// SnapKV with the released defaults' pooling (avg, kernel 5): 10 entries, budget 6, window 2.
    ///
    /// Candidates are entries 0..7 (the last 2 form the kept window). Pooled scores:
    ///   e0 (0.10+0.02+0.30)/5 = 0.084      e4 (0.30+0.01+0+0.05+0.20)/5 = 0.112
    ///   e1 (0.10+0.02+0.30+0.01)/5 = 0.086 e5 (0.01+0+0.05+0.20+0.02)/5 = 0.056
    ///   e2 (0.10+...+0.00)/5 = 0.086       e6 (0+0.05+0.20+0.02)/5 = 0.054
    ///   e3 (0.02+0.30+0.01+0+0.05)/5 = 0.076 e7 (0.05+0.20+0.02)/5 = 0.054
    /// Top 4: e4, e1, e2, e0 — entry 4 (raw score 0) is kept for its neighbour, entry 6 (raw 0.20)
    /// is not. Without the zero padding counted, e0 (0.14) and e7 (0.09) would change the answer.
    @Test func snapKVFixture() {
        let scores: [Float] = [0.10, 0.02, 0.30, 0.01, 0.00, 0.05, 0.20, 0.02, 0.15, 0.15]
        #expect(KVCompressionSelection.snapKV(scores: scores, budget: 6, window: 2, kernel: 5) == [0, 1, 2, 4, 8, 9])
        // Without pooling the raw top 4 wins: 2 (0.30), 6 (0.20), 0 (0.10), 5 (0.05).
        #expect(KVCompressionSelection.snapKV(scores: scores, budget: 6, window: 2, kernel: 1) == [0, 2, 5, 6, 8, 9])
        // max pooling (kernel 3): e0 .10 e1 .30 e2 .30 e3 .30 e4 .05 e5 .20 e6 .20 e7 .20 → e1 e2 e3 e5.
        #expect(KVCompressionSelection.snapKV(scores: scores, budget: 6, window: 2, kernel: 3, pooling: .max) == [1, 2, 3, 5, 8, 9])
        // Fewer entries than the budget: SnapKV returns the cache untouched.
        #expect(KVCompressionSelection.snapKV(scores: Array(scores.prefix(5)), budget: 6, window: 2, kernel: 5) == nil)
        // Exactly the budget: everything stays.
        #expect(KVCompressionSelection.snapKV(scores: Array(scores.prefix(6)), budget: 6, window: 2, kernel: 5) == [0, 1, 2, 3, 4, 5])
    }

    @Test func streamingKeepsSinksAndTheMostRecent() {
        #expect(KVCompressionSelection.streaming(entryCount: 10, budget: 6, sinks: 2) == [0, 1, 6, 7, 8, 9])
        #expect(KVCompressionSelection.streaming(entryCount: 6, budget: 6, sinks: 2) == nil)
    }

    /// Two heads, budget 8 each on average (16 in all), 2 sinks and 2 recent entries always kept,
    /// no pooling: head 0 puts all its attention on 2 entries, head 1 spreads it over 24.
    @Test func entropyLayerGivesFlatHeadsMoreAndKeepsSinksAndWindow() throws {
        var concentrated = [Float](repeating: 0, count: 28)
        concentrated[10] = 0.5; concentrated[17] = 0.5
        let flat = [Float](repeating: 1.0 / 28, count: 28)
        let plan = try #require(KVCompressionSelection.entropyLayer(
            scores: [concentrated, flat], total: 16, sinks: 2, recent: 2, kernel: 1, pooling: .avg, allocation: .coverage,
            minimumHeadFraction: 0.75, maximumHeadFactor: 4))
        // Head 0 is covered by its floor (0.75 × 8 = 6: 4 fixed + its 2 entries); head 1 takes the rest.
        #expect(plan.budgets == [6, 10])
        #expect(plan.keep[0] == [0, 1, 10, 17, 26, 27])
        #expect(plan.keep[1].count == 10)
        #expect(Array(plan.keep[1].prefix(2)) == [0, 1] && Array(plan.keep[1].suffix(2)) == [26, 27])
        #expect(plan.entropies[0] < plan.entropies[1])
        #expect(abs(plan.entropies[1] - log(28)) < 1e-6)

        let uniform = try #require(KVCompressionSelection.entropyLayer(
            scores: [concentrated, flat], total: 16, sinks: 2, recent: 2, kernel: 1, pooling: .avg, allocation: .uniform,
            minimumHeadFraction: 0.25, maximumHeadFactor: 4))
        #expect(uniform.budgets == [8, 8])
        // Everything fits: nothing to do.
        #expect(KVCompressionSelection.entropyLayer(scores: [concentrated, flat], total: 56, sinks: 2, recent: 2, kernel: 1,
                                                    pooling: .avg, allocation: .coverage, minimumHeadFraction: 0.25,
                                                    maximumHeadFactor: 4) == nil)
    }

    @Test func adakvAndEntropyAllocationsFavourTheFlatHead() throws {
        var peaked = [Float](repeating: 0.001, count: 40)
        peaked[5] = 0.9
        let flat = [Float](repeating: 0.025, count: 40)
        for allocation in [KVCompressionPolicy.Allocation.adakv, .entropy, .coverage] {
            let plan = try #require(KVCompressionSelection.entropyLayer(
                scores: [peaked, flat], total: 20, sinks: 1, recent: 1, kernel: 1, pooling: .avg, allocation: allocation,
                minimumHeadFraction: 0.25, maximumHeadFactor: 4))
            #expect(plan.budgets.reduce(0, +) == 20)
            #expect(plan.budgets[0] < plan.budgets[1], "\(allocation): \(plan.budgets)")
            #expect(plan.keep[0].contains(5))
        }
    }

    /// ChunkKV ranking, chunks of 3 over 8 candidates: [0.1 0.0 0.5 | 0.2 0.2 0.2 | 0.0 0.3].
    /// Chunk sums 0.6, 0.6, 0.3: chunks 0 and 1 tie (the lower goes first), then chunk 2; within
    /// a chunk the better pooled (here raw) score first.
    @Test func chunkRankingKeepsWholeChunks() throws {
        let raw: [Float] = [0.1, 0.0, 0.5, 0.2, 0.2, 0.2, 0.0, 0.3]
        #expect(KVCompressionSelection.rankedCandidates(pooled: raw, raw: raw, chunk: 3) == [2, 0, 1, 3, 4, 5, 7, 6])
        #expect(KVCompressionSelection.rankedCandidates(pooled: raw, raw: raw, chunk: 1) == [2, 7, 3, 4, 5, 0, 1, 6])
        // In a layer: one head, 2 sinks, 2 recent, 12 entries, 6 kept: the middle 8 are the
        // candidates above, the 2 free places go to chunk 0's best two, entries 2+2 and 0+2.
        let scores: [Float] = [1, 1] + raw + [1, 1]
        let plan = try #require(KVCompressionSelection.entropyLayer(
            scores: [scores], total: 6, sinks: 2, recent: 2, kernel: 1, pooling: .avg, allocation: .coverage,
            minimumHeadFraction: 0.25, maximumHeadFactor: 4, chunk: 3))
        #expect(plan.keep[0] == [0, 1, 2, 4, 10, 11])
        let entryByEntry = try #require(KVCompressionSelection.entropyLayer(
            scores: [scores], total: 6, sinks: 2, recent: 2, kernel: 1, pooling: .avg, allocation: .coverage,
            minimumHeadFraction: 0.25, maximumHeadFactor: 4))
        #expect(entryByEntry.keep[0] == [0, 1, 4, 9, 10, 11])
        #expect(try KVCompressionPolicy.parse("entropy:512:chunk_tokens=8").chunkTokens == 8)
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("entropy:512:chunk_tokens=0") }
    }

    /// Mixed ranking on the candidates above: chunk order C = [2 0 1 3 4 5 7 6], entry order
    /// E = [2 7 3 4 5 0 1 6]. Position n draws from C while C's picks < share × (n + 1), each
    /// list skipping what the other took. Share 0.25: C(2) E(7) E(3) E(4) C(0) E(5) E(1) E(6);
    /// share 0.5: C(2) E(7) C(0) E(3) C(1) E(4) C(5) E(6).
    @Test func mixedRankingInterleavesChunksAndEntries() throws {
        let raw: [Float] = [0.1, 0.0, 0.5, 0.2, 0.2, 0.2, 0.0, 0.3]
        #expect(KVCompressionSelection.rankedCandidates(pooled: raw, raw: raw, chunk: 3, chunkShare: 0.25) == [2, 7, 3, 4, 0, 5, 1, 6])
        #expect(KVCompressionSelection.rankedCandidates(pooled: raw, raw: raw, chunk: 3, chunkShare: 0.5) == [2, 7, 0, 3, 1, 4, 5, 6])
        #expect(KVCompressionSelection.rankedCandidates(pooled: raw, raw: raw, chunk: 3, chunkShare: 0) == [2, 7, 3, 4, 5, 0, 1, 6])
        #expect(KVCompressionSelection.rankedCandidates(pooled: raw, raw: raw, chunk: 3, chunkShare: 1) == [2, 0, 1, 3, 4, 5, 7, 6])
        // Every share gives a permutation of the candidates.
        for share in stride(from: 0.0, through: 1.0, by: 0.1) {
            let order = KVCompressionSelection.rankedCandidates(pooled: raw, raw: raw, chunk: 3, chunkShare: share)
            #expect(order.sorted() == (0..<8).map { Int32($0) }, "share \(share)")
        }
        #expect(try KVCompressionPolicy.parse("entropy:512:chunk_tokens=16:chunk_share=0.5").chunkShare == 0.5)
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("entropy:512:chunk_share=1.5") }
    }

    /// Sliding chunks, by hand: window sums (chunk 3) from starts 0…7 are 0.6, 0.7, 0.9, 0.6,
    /// 0.4, 0.5, 0.3, 0.3; windows at 2, 1, 0, 3, 5 list 2 3 4 | 1 | 0 | 5 | 7 6. A span the
    /// aligned chunks [0,3) [3,6) cut (entries 2 to 4) is listed first and whole.
    @Test func slidingChunksStartAtAnyEntry() throws {
        let raw: [Float] = [0.1, 0.0, 0.5, 0.2, 0.2, 0.2, 0.0, 0.3]
        #expect(KVCompressionSelection.rankedCandidates(pooled: raw, raw: raw, chunk: 3, chunkShare: 1, alignment: .sliding)
                == [2, 3, 4, 1, 0, 5, 7, 6])
        // Mixed with the entry ranking [2, 7, 3, 4, 5, 0, 1, 6] at a quarter.
        #expect(KVCompressionSelection.rankedCandidates(pooled: raw, raw: raw, chunk: 3, chunkShare: 0.25, alignment: .sliding)
                == [2, 7, 3, 4, 1, 5, 0, 6])
        for chunk in 1...9 {
            let order = KVCompressionSelection.rankedCandidates(pooled: raw, raw: raw, chunk: chunk, chunkShare: 1, alignment: .sliding)
            #expect(order.sorted() == (0..<8).map { Int32($0) }, "chunk \(chunk)")
        }
        #expect(try KVCompressionPolicy.parse("entropy:512:chunk_alignment=sliding").chunkAlignment == .sliding)
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("entropy:512:chunk_alignment=centred") }
    }

    /// Forward spread, by hand (decay 0.5): 0.1, max(0, 0.05), max(0.8, 0.025), max(0, 0.4),
    /// max(0.1, 0.2), max(0.3, 0.1). Decay 0 leaves the scores as they are.
    @Test func forwardSpreadLendsDecayingScoreToTheEntriesAfter() throws {
        let raw: [Float] = [0.1, 0.0, 0.8, 0.0, 0.1, 0.3]
        #expect(KVCompressionSelection.spreadForward(raw, decay: 0.5) == [0.1, 0.05, 0.8, 0.4, 0.2, 0.3])
        #expect(KVCompressionSelection.spreadForward(raw, decay: 0) == raw)
        #expect(KVCompressionSelection.spreadForward([], decay: 0.5) == [])
        // Over positions: the gap 2 → 5 decays the lent score by 0.5³.
        #expect(KVCompressionSelection.spreadForward(raw, decay: 0.5, positions: [0, 1, 2, 5, 6, 7][...])
                == [0.1, 0.05, 0.8, 0.1, 0.1, 0.3])
        // In a layer plan (one head, 3 entries, the last one recent): the peak's successor
        // outranks a weak isolated entry once spread.
        let scores: [Float] = [0, 0, 0.05, 0, 0, 0.8, 0, 0, 0, 0, 0, 0.01]
        func kept(decay: Double) throws -> [Int32] {
            try #require(KVCompressionSelection.entropyLayer(
                scores: [scores], total: 3, sinks: 0, recent: 1, kernel: 1, pooling: .avg, allocation: .adakv,
                minimumHeadFraction: 0.25, maximumHeadFactor: 4, forwardDecay: decay)).keep[0]
        }
        #expect(try kept(decay: 0) == [2, 5, 11])
        #expect(try kept(decay: 0.9) == [5, 6, 11])
        #expect(try KVCompressionPolicy.parse("entropy:512:forward_decay=0.9").forwardDecay == 0.9)
        let byBudget = KVCompressionPolicy(kind: .entropy)
        #expect(byBudget.forwardDecay == nil && byBudget.chunkTokens == 1)
        #expect([8, 512, 1023, 1024, 2048, 4096].map { byBudget.forwardDecay(meanBudget: $0) } == [0.9, 0.9, 0.9, 0.96875, 0.984375, 0.9921875])
        #expect(try KVCompressionPolicy.parse("entropy:512:forward_decay=0.9").forwardDecay(meanBudget: 2048) == 0.9)
        #expect(byBudget.description.contains("forward=auto"))
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("entropy:512:forward_decay=1") }
    }

    /// Two rankings merged, by hand at a quarter: the second ranking's first entry, then three of
    /// the first's, then the second's next not yet taken, …
    @Test func interleaveTakesTheShareFromTheSecondRanking() {
        let first: [Int32] = [0, 1, 2, 3, 4, 5, 6, 7]
        let second: [Int32] = [7, 6, 5, 4, 3, 2, 1, 0]
        #expect(KVCompressionSelection.interleave(first, second, share: 0.25) == [7, 0, 1, 2, 6, 3, 4, 5])
        #expect(KVCompressionSelection.interleave(first, second, share: 0) == first)
        #expect(KVCompressionSelection.interleave(first, second, share: 1) == second)
    }

    /// The novelty reserve, by hand. Head 0 attends its first entries most, head 1 evenly; head 0's
    /// entries 10 and 11 have the most novel keys. Budgets are shared out by attention alone
    /// (unchanged by the reserve); then a share of each head's picks comes from the novelty
    /// ranking: at a quarter of 4, head 0 keeps novel entry 10 instead of attended entry 3. With
    /// novelty kernel 3 the novelty is max-pooled (entries 9, 10, 11 all score 0.9); with
    /// attention kernel 3 the attention is avg-pooled (order 1, 2, 0, 3, …). The two kernels are
    /// independent: at a half head 0 keeps 0, 1 and 9, 10 (novelty pooled only), 1, 2 and 10, 11
    /// (attention pooled only), 1, 2 and 9, 10 (both).
    @Test func noveltyReserveKeepsNovelKeysNoQueryAttended() throws {
        let attention: [[Float]] = [[8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0], [Float](repeating: 1, count: 12)]
        let novelty: [[Float]] = [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.9, 0.5], [Float](repeating: 0, count: 12)]
        func plan(kernel: Int = 1, noveltyKernel: Int = 1, allocation: KVCompressionPolicy.Allocation = .uniform,
                  share: Double, novelty: [[Float]]? = novelty) throws -> KVCompressionSelection.LayerPlan {
            try #require(KVCompressionSelection.entropyLayer(
                scores: attention, total: 8, sinks: 0, recent: 0, kernel: kernel, pooling: .avg, allocation: allocation,
                minimumHeadFraction: 0.25, maximumHeadFactor: 4, novelty: novelty, noveltyShare: share,
                noveltyKernel: noveltyKernel))
        }
        #expect(try plan(share: 0).keep == [[0, 1, 2, 3], [0, 1, 2, 3]])
        #expect(try plan(share: 0.25, novelty: nil).keep == [[0, 1, 2, 3], [0, 1, 2, 3]])
        #expect(try plan(share: 0.25).keep == [[0, 1, 2, 10], [0, 1, 2, 3]])
        #expect(try plan(share: 0.5).keep == [[0, 1, 10, 11], [0, 1, 2, 3]])
        #expect(try plan(noveltyKernel: 3, share: 0.5).keep[0] == [0, 1, 9, 10])
        #expect(try plan(kernel: 3, share: 0.5).keep[0] == [1, 2, 10, 11])
        #expect(try plan(kernel: 3, noveltyKernel: 3, share: 0.5).keep[0] == [1, 2, 9, 10])
        let byAttention = try plan(allocation: .adakv, share: 0)
        #expect(try plan(allocation: .adakv, share: 0.5).budgets == byAttention.budgets)

        let byBudget = KVCompressionPolicy(kind: .entropy)
        #expect(byBudget.noveltyShare == nil && byBudget.description.contains("novelty=auto"))
        #expect([512, 1024, 2047, 2048, 4096].map { byBudget.noveltyShare(meanBudget: $0) } == [0, 0, 0, 0.25, 0.25])
        let explicit = try KVCompressionPolicy.parse("entropy:512:novelty_share=0.5")
        #expect(explicit.noveltyShare(meanBudget: 512) == 0.5 && explicit.noveltyShare(meanBudget: 4096) == 0.5)
        #expect(try KVCompressionPolicy.parse("entropy:4096:novelty_share=0").noveltyShare(meanBudget: 4096) == 0)
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("entropy:512:novelty_share=2") }
        #expect(byBudget.noveltyKernel == 5 && byBudget.description.contains("novelty=autox5"))
        #expect(try KVCompressionPolicy.parse("entropy:2048:novelty_kernel=11").noveltyKernel == 11)
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("entropy:2048:novelty_kernel=10") }
    }

    /// `observation_reduction` adaptive, by hand. Three blocks of queries (2, 1 and 1 queries) over
    /// six entries, the last one recent; keep 2. The older blocks' mean (2·b0 + b1) / 3 =
    /// (0.4, 0.2, 0.167, 0.133, 0, 0.1) picks entries 0 and 1, the newest older block b1 picks 2
    /// and 3. When the newest block attends 2 and 3 (0.8 against 0.1) it scores alone; when it
    /// attends 0 and 1 the mean over every query, (2·b0 + b1 + b2) / 4, scores.
    @Test func recencyChoiceBacktestsOneBlockBack() {
        let b0: [Float] = [0.6, 0.3, 0, 0, 0, 0.1], b1: [Float] = [0, 0, 0.5, 0.4, 0, 0.1]
        let followsTheRecent: [Float] = [0.1, 0, 0.3, 0.5, 0, 0.1], returnsToTheOlder: [Float] = [0.5, 0.3, 0.1, 0, 0, 0.1]
        let recent = KVCompressionSelection.recencyChoice(blocks: [b0, b1, followsTheRecent], blockSizes: [2, 1, 1], keep: 2, recent: 1)
        #expect(recent.newestAlone && recent.scores == followsTheRecent)
        let older = KVCompressionSelection.recencyChoice(blocks: [b0, b1, returnsToTheOlder], blockSizes: [2, 1, 1], keep: 2, recent: 1)
        #expect(!older.newestAlone)
        for (got, want) in zip(older.scores, [0.425, 0.225, 0.15, 0.1, 0, 0.1] as [Float]) { #expect(abs(got - want) < 1e-6) }
        let evenly: [Float] = [0.2, 0, 0.2, 0, 0, 0.1]
        #expect(!KVCompressionSelection.recencyChoice(blocks: [b0, b1, evenly], blockSizes: [2, 1, 1], keep: 2, recent: 1).newestAlone,
                "a tie goes to every query")
        let two = KVCompressionSelection.recencyChoice(blocks: [b1, followsTheRecent], blockSizes: [1, 1], keep: 2, recent: 1)
        #expect(!two.newestAlone && two.scores == zip(b1, followsTheRecent).map { ($0 + $1) / 2 }, "two blocks: no backtest")
    }

    @Test func policyNamesKnobsAndTheCommandLineForm() throws {
        let parsed = try KVCompressionPolicy.parse("entropy:512")
        #expect(parsed.kind == .entropy && parsed.budget == 512)
        #expect(try KVCompressionPolicy.parse("latent").budget == 1024)
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("lossy") }
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("snapkv:x") }
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("snapkv:16") }   // ≤ window
        let knobs = try KVCompressionPolicy.parse("entropy:2048:prefill_budget_factor=2:allocation=adakv:slack_tokens=64")
        #expect(knobs.budget == 2048 && knobs.prefillBudgetFactor == 2 && knobs.allocation == .adakv && knobs.slackTokens == 64)
        let grouped = try KVCompressionPolicy.parse("snapkv:expand_gqa=false")
        #expect(grouped.budget == 1024 && !grouped.expandGQA)
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("entropy:512:1024") }  // two budgets
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("entropy:alpha=1") }   // unknown knob
        #expect(throws: KVCompressionPolicyError.self) { try KVCompressionPolicy.parse("entropy:pooling=median") }
        var policy = KVCompressionPolicy(kind: .entropy)
        try policy.set("allocation", string: "adakv")
        try policy.set("pooling_kernel", integer: 7)
        try policy.set("slack_tokens", number: 64)
        try policy.set("expand_gqa", boolean: false)
        #expect(policy.allocation == .adakv && policy.poolingKernel == 7 && policy.slackTokens == 64 && !policy.expandGQA)
        #expect(throws: KVCompressionPolicyError.self) { try policy.set("pooling_kernel", integer: 4) }
        #expect(throws: KVCompressionPolicyError.self) { try policy.set("allocation", string: "greedy") }
        #expect(throws: KVCompressionPolicyError.self) { try policy.set("budget", number: 10.5) }
        #expect(throws: KVCompressionPolicyError.self) { try policy.set("coverage", number: 0.5) }
        #expect(KVCompressionPolicy(kind: .snapkv).expandsGQA && !KVCompressionPolicy(kind: .entropy).expandsGQA)
    }
}
