import Attention
import CKernels
import Kernels
import KVMemory
import Testing

/// Deterministic pseudo-random floats for test inputs.
struct TestRandom {
    var state: UInt64
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000
    }
    mutating func array(_ count: Int, scale: Float = 1) -> [Float] { (0..<count).map { _ in next() * scale } }
}

/// Keys, values and queries of a synthetic session.
struct SyntheticSession {
    let geometry: AttentionGeometry
    let layerCount: Int
    let tokenCount: Int
    /// (layer, token, kvHead, headDim)
    var keys: [Float]
    var values: [Float]
    /// (layer, token, queryHead, headDim)
    var queries: [Float]

    init(geometry: AttentionGeometry, layerCount: Int, tokenCount: Int, seed: UInt64, keyScale: Float = 2) {
        self.geometry = geometry
        self.layerCount = layerCount
        self.tokenCount = tokenCount
        var random = TestRandom(state: seed)
        keys = random.array(layerCount * tokenCount * geometry.kvHeadCount * geometry.headDim, scale: keyScale)
        values = random.array(layerCount * tokenCount * geometry.kvHeadCount * geometry.headDim)
        queries = random.array(layerCount * tokenCount * geometry.queryHeadCount * geometry.headDim, scale: keyScale)
    }

    var kvRow: Int { geometry.kvHeadCount * geometry.headDim }
    var queryRow: Int { geometry.queryHeadCount * geometry.headDim }

    /// Runs attention for every token, processing them in the given chunk sizes (each chunk is
    /// appended to the cache, then attends), and returns (layer, token, queryRow) outputs.
    func run(chunks: [Int], threads: ThreadPool, dataType: KVDataType = .f16) throws -> [Float] {
        let layout = KVLayout(layerCount: layerCount, kvHeadCount: geometry.kvHeadCount, headDim: geometry.headDim,
                              dataType: dataType)
        let pool = try KVBlockPool(layout: layout, budgetBytes: 64 << 20)
        let sequence = KVSequence(pool: pool)
        let attention = DenseAttention(geometry: geometry, threads: threads)
        var output = [Float](repeating: .nan, count: layerCount * tokenCount * queryRow)
        var start = 0
        for chunk in chunks {
            try sequence.reserve(appending: chunk)
            for layer in 0..<layerCount {
                keys.withUnsafeBufferPointer { k in
                    values.withUnsafeBufferPointer { v in
                        let offset = (layer * tokenCount + start) * kvRow
                        sequence.append(layer: layer, count: chunk, keys: k.baseAddress! + offset,
                                        values: v.baseAddress! + offset, rowStride: kvRow)
                    }
                }
                queries.withUnsafeBufferPointer { q in
                    output.withUnsafeMutableBufferPointer { o in
                        let offset = (layer * tokenCount + start) * queryRow
                        attention.run(layer: layer,
                                      queries: AttentionQueries(base: q.baseAddress! + offset, tokenStride: queryRow,
                                                                tokenCount: chunk, firstPosition: start),
                                      kv: sequence, output: AttentionOutput(base: o.baseAddress! + offset, tokenStride: queryRow))
                    }
                }
            }
            sequence.advance(to: start + chunk)
            start += chunk
        }
        return output
    }

    /// Plain Swift causal attention over f16-rounded keys and values, in Double.
    func reference(roundToF16: Bool = true) -> [Float] {
        let headDim = geometry.headDim
        func rounded(_ x: Float) -> Float { roundToF16 ? ei_f16_to_f32(ei_f32_to_f16(x)) : x }
        var output = [Float](repeating: 0, count: layerCount * tokenCount * queryRow)
        for layer in 0..<layerCount {
            for token in 0..<tokenCount {
                for head in 0..<geometry.queryHeadCount {
                    let kvHead = head / geometry.groupSize
                    let q = (layer * tokenCount + token) * queryRow + head * headDim
                    var scores = [Double]()
                    for key in 0...token {
                        let k = (layer * tokenCount + key) * kvRow + kvHead * headDim
                        var dot = 0.0
                        for d in 0..<headDim { dot += Double(queries[q + d]) * Double(rounded(keys[k + d])) }
                        scores.append(dot * Double(geometry.scale))
                    }
                    let maximum = scores.max()!
                    let weights = scores.map { Foundation_exp($0 - maximum) }
                    let total = weights.reduce(0, +)
                    for d in 0..<headDim {
                        var sum = 0.0
                        for key in 0...token {
                            let v = (layer * tokenCount + key) * kvRow + kvHead * headDim
                            sum += weights[key] * Double(rounded(values[v + d]))
                        }
                        output[q + d] = Float(sum / total)
                    }
                }
            }
        }
        return output
    }
}

#if canImport(Glibc)
import Glibc
func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
#endif

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite(.serialized) struct DenseAttentionTests {
    let smolGeometry = AttentionGeometry(queryHeadCount: 9, kvHeadCount: 3, headDim: 64)
    let qwenGeometry = AttentionGeometry(queryHeadCount: 14, kvHeadCount: 2, headDim: 64)

    @Test(arguments: [EI_ISA_PORTABLE, EI_ISA_AVX2, EI_ISA_AVX512])
    func matchesReference(isa: ei_isa) throws {
        guard isa.rawValue <= ei_cpu_best_isa().rawValue else { return }  // this CPU lacks it: nothing to compare
        ei_set_active_isa(isa)
        defer { ei_set_thread_isa_override(-1) }
        for geometry in [smolGeometry, qwenGeometry] {
            let session = SyntheticSession(geometry: geometry, layerCount: 2, tokenCount: 77, seed: 7)
            let fast = try session.run(chunks: [77], threads: ThreadPool(threadCount: 2))
            let reference = session.reference()
            #expect(maxAbsDifference(fast, reference) < 2e-5, "ISA \(isa.rawValue), \(geometry)")
        }
    }

    @Test func f32CacheMatchesUnroundedReference() throws {
        let session = SyntheticSession(geometry: smolGeometry, layerCount: 1, tokenCount: 40, seed: 3)
        let fast = try session.run(chunks: [40], threads: ThreadPool(threadCount: 2), dataType: .f32)
        #expect(maxAbsDifference(fast, session.reference(roundToF16: false)) < 2e-5)
    }

    /// The same tokens in one prefill, in odd chunks and one by one (decode) give identical bits,
    /// on every thread count; long enough (600 tokens = 3 chunks of 256) to exercise the
    /// split-over-chunks decode path.
    @Test(arguments: [EI_ISA_PORTABLE, EI_ISA_AVX2, EI_ISA_AVX512])
    func batchInvariance(isa: ei_isa) throws {
        guard isa.rawValue <= ei_cpu_best_isa().rawValue else { return }  // this CPU lacks it
        ei_set_active_isa(isa)
        defer { ei_set_thread_isa_override(-1) }
        let tokenCount = 600
        let session = SyntheticSession(geometry: qwenGeometry, layerCount: 1, tokenCount: tokenCount, seed: 11)
        let whole = try session.run(chunks: [tokenCount], threads: ThreadPool(threadCount: 2))
        let chunked = try session.run(chunks: [1, 7, 16, 100, 256, 220], threads: ThreadPool(threadCount: 1))
        let prefix = 560
        let decoded = try session.run(chunks: [prefix] + Array(repeating: 1, count: tokenCount - prefix),
                                      threads: ThreadPool(threadCount: 3))
        let fewAtATime = try session.run(chunks: [prefix, 3, 5, 8, 2, 6, 4, 8, 4], threads: ThreadPool(threadCount: 2))
        #expect(whole.map(\.bitPattern) == chunked.map(\.bitPattern))
        #expect(whole.map(\.bitPattern) == decoded.map(\.bitPattern))
        #expect(whole.map(\.bitPattern) == fewAtATime.map(\.bitPattern))
        #expect(maxAbsDifference(whole, session.reference()) < 3e-5)
    }
}
