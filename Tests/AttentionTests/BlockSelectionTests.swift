import Attention
import CKernels
import Foundation
import Kernels
import KVMemory
import Testing

@Suite struct ReferenceBudgetTests {
    /// The trajectories of the released code's recurrence (method notes §3, NumPy replica).
    @Test(arguments: [
        ([9, 1, 1, 1, 1], [2048, 2048, 2048, 2048, 2048]),
        ([9, 0.5, 1, 2, 3, 3, 2], [2048, 2048, 2662, 3277, 3379, 2970, 2560]),
        ([9, 0.1, 0.3, 0.9, 2.7, 2.7, 2.7, 0.5], [2048, 2048, 3072, 4096, 5120, 4710, 4301, 3891]),
    ] as [([Double], [Int])])
    func recurrenceMatchesTheReleasedTrajectories(entropy: [Double], budgets: [Int]) {
        let trajectory = ReferenceBudget.trajectory(entropy: entropy, base: 2048, alpha: 0.5, delta: 0.4, maximumFactor: 3)
        #expect(trajectory.map { Int($0.rounded()) } == budgets)
    }

    @Test func rigidHeadsKeepTheBaseAndSegmentsTakeTheMaximumOverHeads() {
        let policy = AttentionPolicy(kind: .reference)
        #expect(ReferenceBudget.isRigid(entropy: [5, 1e-6, 0, 9e-6], threshold: 1e-5))
        #expect(!ReferenceBudget.isRigid(entropy: [5, 1e-6, 0, 2e-5], threshold: 1e-5))
        let rigid: [Double] = [9, 1e-7, 1e-7, 1e-7, 1e-7]
        let dynamic: [Double] = [9, 0.1, 0.3, 0.9, 2.7]
        let counts = ReferenceBudget.segmentBlockCounts(entropies: [rigid, dynamic], policy: policy)
        #expect(counts == [0, 128, 192, 256, 320])   // 2048/16, 3072/16, 4096/16, 5120/16
        #expect(ReferenceBudget.segmentBlockCounts(entropies: [rigid], policy: policy) == [0, 128, 128, 128, 128])
    }
}

@Suite struct BlockSelectionTests {
    func profile(mass: [[Float]], segmentStart: Int) -> SegmentProfile {
        SegmentProfile(segmentStart: segmentStart, blockMass: mass,
                       blockFirstPositions: mass.map { $0.indices.map { Int32($0 * 16) } },
                       entropy: mass.map { _ in 0 }, multiplyAccumulates: 0)
    }

    @Test func partialSelectionBreaksTiesTowardLowerBlocks() {
        let mass: [Float] = [0.1, 0.3, 0.1, 0.3, 0.1, 0.1]
        #expect(BlockSelection.topK(profile(mass: [mass], segmentStart: 96), blocks: 3) == [[1, 3, 0].sorted()])
        #expect(BlockSelection.topK(profile(mass: [mass], segmentStart: 96), blocks: 4) == [[0, 1, 2, 3]])
        let flat = [Float](repeating: 0, count: 40)
        #expect(BlockSelection.topK(profile(mass: [flat], segmentStart: 640), blocks: 5) == [[0, 1, 2, 3, 4]])
    }

    @Test func entropyKeepsSinkAndWindowAndCoversTheMass() {
        var policy = AttentionPolicy(kind: .entropy)
        policy.sinkTokens = 32          // blocks 0, 1
        policy.localWindowTokens = 64   // the last 4 blocks
        policy.minimumBudgetTokens = 128 // 8 blocks
        policy.maximumBudgetTokens = 512 // 32 blocks
        policy.coverage = 0.9
        let count = 100
        // Head 0: one-hot on block 50. Head 1: flat.
        var peaked = [Float](repeating: 0, count: count)
        peaked[50] = 1
        let flat = [Float](repeating: 1 / Float(count), count: count)
        let selections = BlockSelection.entropy(profile(mass: [peaked, flat], segmentStart: count * 16), policy: policy)
        let forced: Set<Int32> = [0, 1, 96, 97, 98, 99]
        for selection in selections {
            #expect(forced.isSubset(of: Set(selection)))
            #expect(selection == selection.sorted() && Set(selection).count == selection.count)
            #expect(selection.allSatisfy { $0 >= 0 && $0 < count })
        }
        // The peaked head stops at the minimum (8 blocks) and includes its peak; the flat head
        // grows to the maximum (32 blocks), filled from the lowest indices on ties.
        #expect(selections[0].count == 8 && selections[0].contains(50))
        #expect(selections[1].count == 32)
        #expect(selections[1] == (Array(0..<28) + [96, 97, 98, 99]).map { Int32($0) })
    }

    /// No policy ever selects a block at or after the segment start: selections index only the
    /// profile's blocks, which the profiler takes from before the segment.
    @Test func noPolicySelectsTheFuture() throws {
        let geometry = AttentionGeometry(queryHeadCount: 4, kvHeadCount: 2, headDim: 32)
        let threads = ThreadPool(threadCount: 2)
        let filled = try FilledSession(geometry: geometry, tokenCount: 700, seed: 21, dataType: .f16)
        let profiler = EntropyProfiler(geometry: geometry, threads: threads)
        for segmentStart in [64, 256, 512, 640] {
            let count = min(64, 700 - segmentStart)
            var profile: SegmentProfile?
            _ = filled.withSegment(first: segmentStart, count: count) { q, _ in
                profile = profiler.profile(layer: 0, queries: q, segmentStart: segmentStart, kv: filled.sequence, scale: geometry.scale)
            }
            let measured = try #require(profile)
            for head in 0..<2 {
                #expect(measured.blockMass[head].count == segmentStart / 16)
                #expect(measured.blockFirstPositions[head].allSatisfy { Int($0) + 16 <= segmentStart })
            }
            var small = AttentionPolicy(kind: .entropy)
            small.minimumBudgetTokens = 32; small.maximumBudgetTokens = 96; small.sinkTokens = 16; small.localWindowTokens = 32
            var uniform = AttentionPolicy(kind: .uniform)
            uniform.uniformBudgetTokens = 64
            for selection in BlockSelection.entropy(measured, policy: small) + BlockSelection.uniform(measured, policy: uniform)
                + BlockSelection.topK(measured, blocks: 7) {
                #expect(selection.allSatisfy { Int($0) * 16 + 16 <= segmentStart }, "segment at \(segmentStart)")
            }
        }
    }
}

@Suite struct EntropyProfilerTests {
    /// Scores, masses and entropy against a plain Swift computation from the f16 keys.
    @Test(arguments: [EI_ISA_PORTABLE, EI_ISA_AVX2, EI_ISA_AVX512])
    func profileMatchesSwiftReference(isa: ei_isa) throws {
        guard isa.rawValue <= ei_cpu_best_isa().rawValue else { return }
        ei_set_active_isa(isa)
        defer { ei_set_thread_isa_override(-1) }
        let geometry = AttentionGeometry(queryHeadCount: 6, kvHeadCount: 2, headDim: 64)
        let filled = try FilledSession(geometry: geometry, tokenCount: 300, seed: 8, dataType: .f16)
        let profiler = EntropyProfiler(geometry: geometry, threads: ThreadPool(threadCount: 2))
        let segmentStart = 256, count = 44
        for scale in [Float(1), geometry.scale] {
            var profile: SegmentProfile?
            _ = filled.withSegment(first: segmentStart, count: count) { q, _ in
                profile = profiler.profile(layer: 0, queries: q, segmentStart: segmentStart, kv: filled.sequence, scale: scale)
            }
            let measured = try #require(profile)
            let session = filled.session
            func f16(_ x: Float) -> Double { Double(ei_f16_to_f32(ei_f32_to_f16(x))) }
            for kvHead in 0..<2 {
                var scores: [Double] = []
                for unit in 0..<segmentStart / 8 {
                    var total = 0.0
                    for member in 0..<3 {
                        let head = kvHead * 3 + member
                        var low = 0.0, high = 0.0
                        for d in 0..<64 {
                            let column = (segmentStart..<segmentStart + count).map { session.queries[$0 * session.queryRow + head * 64 + d] }
                            let mid = Double((column.max()! + column.min()!) / 2)
                            let keys = (unit * 8..<unit * 8 + 8).map { f16(session.keys[$0 * session.kvRow + kvHead * 64 + d]) }
                            low += mid * keys.min()!
                            high += mid * keys.max()!
                        }
                        total += max(low, high)
                    }
                    scores.append(Double(scale) * total / 3)
                }
                let top = scores.max()!
                let weights = scores.map { Foundation_exp($0 - top) }
                let sum = weights.reduce(0, +)
                let probabilities = weights.map { $0 / sum }
                let entropy = probabilities.reduce(0.0) { $1 > 0 ? $0 - $1 * log($1) : $0 }
                #expect(abs(measured.entropy[kvHead] - entropy) < 1e-3 * max(1, entropy), "scale \(scale), head \(kvHead)")
                for block in 0..<segmentStart / 16 {
                    let mass = probabilities[2 * block] + probabilities[2 * block + 1]
                    #expect(abs(Double(measured.blockMass[kvHead][block]) - mass) < 1e-4)
                }
            }
            #expect(measured.multiplyAccumulates == count * 6 * 64 + 2 * (segmentStart / 8) * 3 * 2 * 64)
        }
    }
}

@Suite struct SampledProfileTests {
    /// The sampled estimator against a plain Swift computation: each sampled query's softmax
    /// over the f16 past keys, averaged over samples and the group, summed per block.
    @Test(arguments: [EI_ISA_PORTABLE, EI_ISA_AVX2])
    func sampledProfileMatchesSwiftReference(isa: ei_isa) throws {
        guard isa.rawValue <= ei_cpu_best_isa().rawValue else { return }
        ei_set_active_isa(isa)
        defer { ei_set_thread_isa_override(-1) }
        #expect(EntropyProfiler.sampledTokens(tokenCount: 512, sampleCount: 32) == (0..<32).map { 16 * $0 + 15 })
        #expect(EntropyProfiler.sampledTokens(tokenCount: 5, sampleCount: 32) == [0, 1, 2, 3, 4])
        let geometry = AttentionGeometry(queryHeadCount: 6, kvHeadCount: 2, headDim: 64)
        let filled = try FilledSession(geometry: geometry, tokenCount: 300, seed: 9, dataType: .f16)
        let profiler = EntropyProfiler(geometry: geometry, threads: ThreadPool(threadCount: 2))
        let segmentStart = 256, count = 44, sampleCount = 8
        var profile: SegmentProfile?
        _ = filled.withSegment(first: segmentStart, count: count) { q, _ in
            profile = profiler.sampledProfile(layer: 0, queries: q, segmentStart: segmentStart, kv: filled.sequence,
                                              sampleCount: sampleCount)
        }
        let measured = try #require(profile)
        let session = filled.session
        func f16(_ x: Float) -> Double { Double(ei_f16_to_f32(ei_f32_to_f16(x))) }
        let samples = EntropyProfiler.sampledTokens(tokenCount: count, sampleCount: sampleCount)
        for kvHead in 0..<2 {
            var entryMass = [Double](repeating: 0, count: segmentStart)
            for member in 0..<3 {
                let head = kvHead * 3 + member
                for token in samples {
                    let query = (0..<64).map { Double(session.queries[(segmentStart + token) * session.queryRow + head * 64 + $0]) }
                    var logits = [Double](repeating: 0, count: segmentStart)
                    for key in 0..<segmentStart {
                        var dot = 0.0
                        for d in 0..<64 { dot += query[d] * f16(session.keys[key * session.kvRow + kvHead * 64 + d]) }
                        logits[key] = Double(geometry.scale) * dot
                    }
                    let top = logits.max()!
                    let weights = logits.map { Foundation_exp($0 - top) }
                    let sum = weights.reduce(0, +)
                    for key in 0..<segmentStart { entryMass[key] += weights[key] / sum / Double(3 * samples.count) }
                }
            }
            let units = (0..<segmentStart / 8).map { unit in (0..<8).reduce(0.0) { $0 + entryMass[unit * 8 + $1] } }
            let entropy = units.reduce(0.0) { $1 > 0 ? $0 - $1 * log($1) : $0 }
            #expect(abs(measured.entropy[kvHead] - entropy) < 1e-3 * max(1, entropy), "head \(kvHead)")
            #expect(measured.blockMass[kvHead].count == segmentStart / 16)
            for block in 0..<segmentStart / 16 {
                #expect(abs(Double(measured.blockMass[kvHead][block]) - units[2 * block] - units[2 * block + 1]) < 1e-4)
            }
        }
        #expect(measured.multiplyAccumulates == samples.count * 6 * segmentStart * 64)
    }
}
