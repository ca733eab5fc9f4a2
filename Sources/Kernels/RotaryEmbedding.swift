import Foundation

/// Rotary position embedding (RoPE) of query/key heads.
public struct RotaryEmbedding: Sendable {
    /// Which elements form a rotated pair.
    public enum Layout: Sendable {
        /// (x[2i], x[2i+1]): llama.cpp's "normal" rope, for GGUF llama models whose Q/K rows
        /// the converter permuted.
        case adjacentPairs
        /// (x[i], x[i + d/2]): GPT-NeoX / Qwen2 ("rotate half").
        case halves
    }

    public let layout: Layout
    /// Dimensions rotated per head (the rest pass through); usually the head dimension.
    public let dimensionCount: Int
    public let base: Double
    /// Linear position scaling (positions are divided by it); 1 = none.
    public let positionScale: Double
    /// Per-pair frequency divisors (Llama 3 `rope_freqs`), or nil.
    public let frequencyFactors: [Float]?

    public init(layout: Layout, dimensionCount: Int, base: Double, positionScale: Double = 1,
                frequencyFactors: [Float]? = nil) {
        self.layout = layout
        self.dimensionCount = dimensionCount
        self.base = base
        self.positionScale = positionScale
        self.frequencyFactors = frequencyFactors
    }

    /// Fills `table` (rowCount, dimensionCount / 2, 2) with (cos, sin) for each position.
    /// Angles are computed in Double, so a position's values do not depend on anything else.
    public func fillTable(positions: UnsafePointer<Int32>, count: Int, table: UnsafeMutablePointer<Float>) {
        let pairs = dimensionCount / 2
        for row in 0..<count {
            let position = Double(positions[row]) / positionScale
            for pair in 0..<pairs {
                var inverseFrequency = Foundation.pow(base, -2.0 * Double(pair) / Double(dimensionCount))
                if let factors = frequencyFactors { inverseFrequency /= Double(factors[pair]) }
                let angle = position * inverseFrequency
                table[(row * pairs + pair) * 2] = Float(Foundation.cos(angle))
                table[(row * pairs + pair) * 2 + 1] = Float(Foundation.sin(angle))
            }
        }
    }

    /// Rotates `headCount` heads of `headDim` in each row in place.
    /// - Parameters:
    ///   - data: (rowCount, headCount, headDim) f32, rows `rowStride` floats apart.
    ///   - table: from `fillTable`, one row per data row.
    public func apply(_ data: UnsafeMutablePointer<Float>, rowStride: Int, rowCount: Int, headCount: Int, headDim: Int,
                      table: UnsafePointer<Float>) {
        let pairs = dimensionCount / 2
        for row in 0..<rowCount {
            let angles = table + row * pairs * 2
            for head in 0..<headCount {
                let x = data + row * rowStride + head * headDim
                for pair in 0..<pairs {
                    let cosine = angles[pair * 2], sine = angles[pair * 2 + 1]
                    let (i, j) = layout == .adjacentPairs ? (2 * pair, 2 * pair + 1) : (pair, pair + pairs)
                    let a = x[i], b = x[j]
                    x[i] = a * cosine - b * sine
                    x[j] = a * sine + b * cosine
                }
            }
        }
    }
}
