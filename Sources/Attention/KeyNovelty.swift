import Kernels
import KVMemory

/// A query-agnostic importance of KV entries (KeyDiff, arXiv 2504.15364): how far each key points
/// away from its stream's mean key, 1 − cos(k_e, k̄). A key like every other key is one attention
/// can most easily do without; a key unlike the rest (a fact that does not belong to the text
/// around it) may be what a question asked later needs, though no query so far has attended it.
/// The `entropy` policy keeps a share of each head's budget by this ranking
/// (`KVCompressionPolicy.noveltyShare`).
public enum KeyNovelty {
    /// Per entry of one stream (lane 0), in stream order: 1 − cos(k_e, k̄) ∈ [0, 2], k̄ the mean of
    /// the stream's keys. Keys are read in place from the paged KV memory (block-transposed, f16
    /// or f32); `scratch` holds (entries × headDim) f32 and only grows.
    public static func scores(layer: Int, kvHead: Int, kv: KVSequence, headDim: Int, scratch: inout [Float]) -> [Float] {
        let entries = kv.entryCount(layer: layer, kvHead: kvHead)
        guard entries > 0 else { return [] }
        if scratch.count < entries * headDim { scratch = [Float](repeating: 0, count: entries * headDim) }
        let blockTokens = KVLayout.blockTokens
        // One f16 block's keys converted, (headDim, blockTokens) f32.
        let converted = UnsafeMutablePointer<Float>.allocate(capacity: headDim * blockTokens)
        defer { converted.deallocate() }
        return scratch.withUnsafeMutableBufferPointer { keys in
            // keys: (entries, headDim) f32, row e the key of entry e.
            kv.withBlockList(layer: layer, kvHead: kvHead) { list in
                var entry = 0
                for index in 0..<Int(list.blockCount) {
                    let block = UnsafeRawPointer(list.poolBase + Int(list.blockIDs[index]) * list.blockBytes)
                    let blockKeys: UnsafePointer<Float>
                    if list.isF16 != 0 {
                        HalfPrecision.convert(block.assumingMemoryBound(to: UInt16.self), to: converted, count: headDim * blockTokens)
                        blockKeys = UnsafePointer(converted)
                    } else {
                        blockKeys = block.assumingMemoryBound(to: Float.self)
                    }
                    // Block layout: key element d of slot t at d × blockTokens + t.
                    let fill = Int(list.fills[index])
                    for slot in 0..<fill {
                        for d in 0..<headDim { keys[(entry + slot) * headDim + d] = blockKeys[d * blockTokens + slot] }
                    }
                    entry += fill
                }
            }
            return novelty(keys: UnsafeBufferPointer(rebasing: keys[0..<(entries * headDim)]), headDim: headDim)
        }
    }

    /// 1 − cos(k_e, k̄) for the rows of `keys` ((entries, headDim) f32), k̄ their mean. A zero key,
    /// or every key when the mean is zero, scores 1 (orthogonal). The plain reference of `scores`.
    public static func novelty(keys: UnsafeBufferPointer<Float>, headDim: Int) -> [Float] {
        let entries = keys.count / headDim
        var mean = [Double](repeating: 0, count: headDim)
        for entry in 0..<entries {
            for d in 0..<headDim { mean[d] += Double(keys[entry * headDim + d]) }
        }
        let meanNorm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return (0..<entries).map { entry in
            var dot = 0.0, norm = 0.0
            for d in 0..<headDim {
                let value = Double(keys[entry * headDim + d])
                dot += value * mean[d]
                norm += value * value
            }
            let denominator = norm.squareRoot() * meanNorm
            return denominator > 0 ? Float(1 - dot / denominator) : 1
        }
    }
}
