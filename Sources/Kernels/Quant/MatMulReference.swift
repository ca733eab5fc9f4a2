import GGUF

/// What the matrix kernels compute, in plain scalar Swift, from the GGUF bytes (no packing).
///
/// `exact` is the contract of `WeightMatrix.multiply`: every instruction-set path must match it
/// bit for bit. `dequantized` is the fp32 oracle (weights dequantized, fp64 sums) that the
/// quantized result approaches within `activationErrorBound`.
public enum MatMulReference {
    /// Elements per activation block for a weight type: 32 for Q4_0/Q4_1/Q5_0/Q5_1/Q8_0, 256 for
    /// K-quants, nil for float weights (fp32 activations, no quantization).
    public static func activationBlockSize(for type: GGMLType) -> Int? {
        switch type {
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: return 32
        case .q4_K, .q5_K, .q6_K: return 256
        default: return nil
        }
    }

    /// An activation row quantized as the kernels quantize it.
    public struct QuantizedRow: Equatable, Sendable {
        /// (K) int8 quants.
        public var quants: [Int8]
        /// (K / blockSize) scales: x ≈ scale · quant.
        public var scales: [Float]
        public var blockSize: Int

        /// Σ quants over elements [start, start + count).
        public func sum(_ start: Int, _ count: Int) -> Int {
            var total = 0
            for i in start..<start + count { total += Int(quants[i]) }
            return total
        }
    }

    /// Per block: amax = max|x|, d = amax / 127, id = d ≠ 0 ? 1 / d : 0, q = round_to_nearest_even(x · id).
    public static func quantize(_ x: UnsafePointer<Float>, count: Int, blockSize: Int) -> QuantizedRow {
        var row = QuantizedRow(quants: [Int8](repeating: 0, count: count), scales: [], blockSize: blockSize)
        for block in 0..<count / blockSize {
            let start = block * blockSize
            var amax: Float = 0
            for i in start..<start + blockSize { amax = max(amax, abs(x[i])) }
            let d = amax / 127
            let inverse: Float = d != 0 ? 1 / d : 0
            for i in start..<start + blockSize { row.quants[i] = Int8((x[i] * inverse).rounded(.toNearestOrEven)) }
            row.scales.append(d)
        }
        return row
    }

    /// The kernels' arithmetic: `output[m·N + n]` for (N = rowCount, K = columnCount) GGUF weights.
    public static func exact(type: GGMLType, weights: UnsafeRawPointer, rowCount: Int, columnCount: Int,
                             input: UnsafePointer<Float>, inputRowCount: Int, output: UnsafeMutablePointer<Float>) {
        let rowBytes = type.byteCount(elements: columnCount)!
        let activations: [QuantizedRow] = activationBlockSize(for: type).map { blockSize in
            (0..<inputRowCount).map { quantize(input + $0 * columnCount, count: columnCount, blockSize: blockSize) }
        } ?? []
        var dequantized = [Float](repeating: 0, count: columnCount)
        for n in 0..<rowCount {
            let row = weights + n * rowBytes
            let decoded = activations.isEmpty ? nil : DecodedRow(type: type, row: row, columnCount: columnCount)
            if decoded == nil {
                dequantized.withUnsafeMutableBufferPointer { Dequantize.row(type, from: row, into: $0.baseAddress!, count: columnCount) }
            }
            for m in 0..<inputRowCount {
                var acc: Float = 0
                if let decoded {
                    acc = decoded.dot(activations[m])
                } else {
                    let x = input + m * columnCount
                    for k in 0..<columnCount { acc = acc.addingProduct(dequantized[k], x[k]) }
                }
                output[m * rowCount + n] = acc
            }
        }
    }

    /// The fp32 oracle: weights dequantized, products summed in fp64.
    public static func dequantized(type: GGMLType, weights: UnsafeRawPointer, rowCount: Int, columnCount: Int,
                                   input: UnsafePointer<Float>, inputRowCount: Int, output: UnsafeMutablePointer<Float>) {
        let rowBytes = type.byteCount(elements: columnCount)!
        var w = [Float](repeating: 0, count: columnCount)
        for n in 0..<rowCount {
            w.withUnsafeMutableBufferPointer { Dequantize.row(type, from: weights + n * rowBytes, into: $0.baseAddress!, count: columnCount) }
            for m in 0..<inputRowCount {
                var sum: Double = 0
                for k in 0..<columnCount { sum += Double(w[k]) * Double(input[m * columnCount + k]) }
                output[m * rowCount + n] = Float(sum)
            }
        }
    }

    /// How far the quantized result of output (m, n) may lie from `dequantized`: activation rounding
    /// (|x - d·q| ≤ d/2 per element) plus float rounding slack.
    public static func activationErrorBound(type: GGMLType, weights: UnsafeRawPointer, columnCount: Int, row n: Int,
                                            input x: UnsafePointer<Float>) -> Float {
        let rowBytes = type.byteCount(elements: columnCount)!
        var w = [Float](repeating: 0, count: columnCount)
        w.withUnsafeMutableBufferPointer { Dequantize.row(type, from: weights + n * rowBytes, into: $0.baseAddress!, count: columnCount) }
        let quantized = activationBlockSize(for: type).map { quantize(x, count: columnCount, blockSize: $0) }
        var rounding: Double = 0, magnitude: Double = 0
        for k in 0..<columnCount {
            magnitude += Double(abs(w[k])) * Double(abs(x[k]))
            if let quantized { rounding += Double(abs(w[k])) * Double(quantized.scales[k / quantized.blockSize]) / 2 }
        }
        return Float(rounding * 1.001 + 2e-5 * (magnitude + rounding) + 1e-30)
    }
}

/// One GGUF weight row as signed integer weights and block parameters, for `MatMulReference`.
struct DecodedRow {
    let type: GGMLType
    /// (K) integer weights: the value is d · w (+ m for Q4_1/Q5_1), or for K-quants d · scale · w - dmin · min.
    var weights: [Int]
    /// Per 32-block (Q4_0..Q8_0) or superblock (K-quants): d and m (Q4_1/Q5_1) or dmin (Q4_K/Q5_K).
    var d: [Float] = [], m: [Float] = []
    /// K-quants: per sub-block (32 elements for Q4_K/Q5_K, 16 for Q6_K) scale and min.
    var subScales: [Int] = [], subMins: [Int] = []

    init(type: GGMLType, row: UnsafeRawPointer, columnCount: Int) {
        self.type = type
        weights = [Int](repeating: 0, count: columnCount)
        for block in 0..<columnCount / type.blockSize {
            let base = row + block * type.blockBytes, first = block * type.blockSize
            func byte(_ offset: Int) -> Int { Int(base.load(fromByteOffset: offset, as: UInt8.self)) }
            switch type {
            case .q4_0, .q4_1:
                let hasMin = type == .q4_1, quants = hasMin ? 4 : 2
                d.append(Dequantize.half(base, 0))
                if hasMin { m.append(Dequantize.half(base, 2)) }
                for j in 0..<16 {
                    weights[first + j] = (byte(quants + j) & 0xF) - (hasMin ? 0 : 8)
                    weights[first + j + 16] = (byte(quants + j) >> 4) - (hasMin ? 0 : 8)
                }
            case .q5_0, .q5_1:
                let hasMin = type == .q5_1, highOffset = hasMin ? 4 : 2
                d.append(Dequantize.half(base, 0))
                if hasMin { m.append(Dequantize.half(base, 2)) }
                let high = Int(base.loadUnaligned(fromByteOffset: highOffset, as: UInt32.self))
                for j in 0..<16 {
                    weights[first + j] = ((byte(highOffset + 4 + j) & 0xF) | (high >> j & 1) << 4) - (hasMin ? 0 : 16)
                    weights[first + j + 16] = ((byte(highOffset + 4 + j) >> 4) | (high >> (j + 16) & 1) << 4) - (hasMin ? 0 : 16)
                }
            case .q8_0:
                d.append(Dequantize.half(base, 0))
                for j in 0..<32 { weights[first + j] = Int(base.load(fromByteOffset: 2 + j, as: Int8.self)) }
            case .q4_K, .q5_K:
                d.append(Dequantize.half(base, 0))
                m.append(Dequantize.half(base, 2))
                for j in 0..<8 {
                    let (scale, min) = Dequantize.kQuantScaleMin(j, base + 4)
                    subScales.append(scale)
                    subMins.append(min)
                }
                let quants = type == .q5_K ? 48 : 16
                for i in 0..<4 {
                    for l in 0..<32 {
                        var low = byte(quants + 32 * i + l) & 0xF, upper = byte(quants + 32 * i + l) >> 4
                        if type == .q5_K {
                            low |= (byte(16 + l) >> (2 * i) & 1) << 4
                            upper |= (byte(16 + l) >> (2 * i + 1) & 1) << 4
                        }
                        weights[first + 64 * i + l] = low
                        weights[first + 64 * i + 32 + l] = upper
                    }
                }
            case .q6_K:
                d.append(Dequantize.half(base, 208))
                for j in 0..<16 { subScales.append(Int(base.load(fromByteOffset: 192 + j, as: Int8.self))) }
                for e in 0..<256 { weights[first + e] = Dequantize.q6KQuant(base, e).q - 32 }
            default:
                preconditionFailure("no integer decoding for \(type)")
            }
        }
    }

    /// The kernels' per-output arithmetic against one quantized activation row.
    func dot(_ a: MatMulReference.QuantizedRow) -> Float {
        var acc: Float = 0
        func integerDot(_ start: Int, _ count: Int) -> Int {
            var sum = 0
            for e in start..<start + count { sum += weights[e] * Int(a.quants[e]) }
            return sum
        }
        switch type {
        case .q4_0, .q5_0, .q8_0, .q4_1, .q5_1:
            for block in 0..<weights.count / 32 {
                acc = acc.addingProduct(Float(integerDot(32 * block, 32)), d[block] * a.scales[block])
                if !m.isEmpty { acc = acc.addingProduct(m[block], a.scales[block] * Float(a.sum(32 * block, 32))) }
            }
        case .q4_K, .q5_K:
            for block in 0..<weights.count / 256 {
                var isum = 0, msum = 0
                for j in 0..<8 {
                    isum += subScales[8 * block + j] * integerDot(256 * block + 32 * j, 32)
                    msum += subMins[8 * block + j] * a.sum(256 * block + 32 * j, 32)
                }
                acc = acc.addingProduct(Float(isum), d[block] * a.scales[block])
                acc = acc.addingProduct(-Float(msum), m[block] * a.scales[block])
            }
        case .q6_K:
            for block in 0..<weights.count / 256 {
                var isum = 0
                for j in 0..<16 { isum += subScales[16 * block + j] * integerDot(256 * block + 16 * j, 16) }
                acc = acc.addingProduct(Float(isum), d[block] * a.scales[block])
            }
        default:
            preconditionFailure("no integer dot for \(type)")
        }
        return acc
    }
}
