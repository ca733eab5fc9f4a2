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

    /// An activation row quantized as the kernels quantize it: x ≈ d · q1 + (d / 256) · q2 per block.
    public struct QuantizedRow: Equatable, Sendable {
        /// (K) int8 first terms q1.
        public var quants: [Int8]
        /// (K) int8 residual terms q2, in [-127, 127].
        public var residuals: [Int8]
        /// (K / blockSize) scales d.
        public var scales: [Float]
        public var blockSize: Int

        /// Σ q1 over elements [start, start + count).
        public func sum(_ start: Int, _ count: Int) -> Int {
            var total = 0
            for i in start..<start + count { total += Int(quants[i]) }
            return total
        }

        /// Σ q2 over elements [start, start + count).
        public func residualSum(_ start: Int, _ count: Int) -> Int {
            var total = 0
            for i in start..<start + count { total += Int(residuals[i]) }
            return total
        }

        /// The activation value the kernels multiply: d · q1 + (d / 256) · q2 (in Double).
        public func value(_ index: Int) -> Double {
            let d = Double(scales[index / blockSize])
            return d * Double(quants[index]) + d / 256 * Double(residuals[index])
        }
    }

    /// Blocks whose max |x| is below this are all zero.
    public static let smallestBlockMax: Float = 0x1p-100

    /// Per block: amax = max|x|; if amax < 2^-100 all zero; else d = amax / 127, id = 1 / d,
    /// q1 = rne(x · id), r = x - d · q1, q2 = clamp(rne(r · (256 · id)), ±127) (rne: round to nearest even);
    /// q2 = 0 in the blocks that keep one term: at `.int8` every block; at `.balanced` those with
    /// amax² · blockCount < Σ amax² (the row's mean energy; products and sum in Double, in block order).
    public static func quantize(_ x: UnsafePointer<Float>, count: Int, blockSize: Int,
                                precision: ActivationPrecision = .high) -> QuantizedRow {
        var row = QuantizedRow(quants: [Int8](repeating: 0, count: count), residuals: [Int8](repeating: 0, count: count),
                               scales: [], blockSize: blockSize)
        let blockCount = count / blockSize
        func blockMax(_ block: Int) -> Float {
            var amax: Float = 0
            for i in block * blockSize..<(block + 1) * blockSize { amax = max(amax, abs(x[i])) }
            return amax
        }
        let threshold = precision.residualThreshold
        var energyFloor = 0.0
        if threshold.isInfinite {
            energyFloor = .infinity
        } else if threshold != 0 {
            var total = 0.0
            for block in 0..<blockCount { let amax = Double(blockMax(block)); total += amax * amax }
            energyFloor = Double(threshold) * total
        }
        for block in 0..<blockCount {
            let start = block * blockSize
            let amax = blockMax(block)
            let keepsResidual = Double(amax) * Double(amax) * Double(blockCount) >= energyFloor
            var d: Float = 0, inverse: Float = 0
            if amax >= smallestBlockMax {
                d = amax / 127
                inverse = 1 / d
            }
            let inverse256 = inverse * 256
            for i in start..<start + blockSize {
                let first = (x[i] * inverse).rounded(.toNearestOrEven)
                let residual = x[i] - d * first
                let second = (residual * inverse256).rounded(.toNearestOrEven)
                row.quants[i] = Int8(first)
                row.residuals[i] = keepsResidual ? Int8(max(-127, min(127, second))) : 0
            }
            row.scales.append(d)
        }
        return row
    }

    /// The kernels' arithmetic: `output[m·N + n]` for (N = rowCount, K = columnCount) GGUF weights.
    public static func exact(type: GGMLType, weights: UnsafeRawPointer, rowCount: Int, columnCount: Int,
                             input: UnsafePointer<Float>, inputRowCount: Int, output: UnsafeMutablePointer<Float>,
                             precision: ActivationPrecision = .high) {
        let rowBytes = type.byteCount(elements: columnCount)!
        let activations: [QuantizedRow] = activationBlockSize(for: type).map { blockSize in
            (0..<inputRowCount).map { quantize(input + $0 * columnCount, count: columnCount, blockSize: blockSize, precision: precision) }
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
    /// (|x - (d·q1 + d/256·q2)| ≤ d/512 per element, up to clamping) plus float rounding slack.
    public static func activationErrorBound(type: GGMLType, weights: UnsafeRawPointer, columnCount: Int, row n: Int,
                                            input x: UnsafePointer<Float>, precision: ActivationPrecision = .high) -> Float {
        let rowBytes = type.byteCount(elements: columnCount)!
        var w = [Float](repeating: 0, count: columnCount)
        w.withUnsafeMutableBufferPointer { Dequantize.row(type, from: weights + n * rowBytes, into: $0.baseAddress!, count: columnCount) }
        let quantized = activationBlockSize(for: type).map { quantize(x, count: columnCount, blockSize: $0, precision: precision) }
        var rounding: Double = 0, magnitude: Double = 0
        for k in 0..<columnCount {
            magnitude += Double(abs(w[k])) * Double(abs(x[k]))
            if let quantized { rounding += Double(abs(w[k])) * abs(quantized.value(k) - Double(x[k])) }
        }
        return Float(rounding * 1.001 + 4e-6 * magnitude + 1e-30)
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
        func integerDot(_ terms: [Int8], _ start: Int, _ count: Int) -> Int {
            var sum = 0
            for e in start..<start + count { sum += weights[e] * Int(terms[e]) }
            return sum
        }
        switch type {
        case .q4_0, .q5_0, .q8_0, .q4_1, .q5_1:
            for block in 0..<weights.count / 32 {
                // One integer over both terms: Σ w · (256·q1 + q2); scale d / 256.
                let isum = 256 * integerDot(a.quants, 32 * block, 32) + integerDot(a.residuals, 32 * block, 32)
                let scale = a.scales[block] * 0x1p-8
                acc = acc.addingProduct(Float(isum), d[block] * scale)
                if !m.isEmpty {
                    let total = 256 * a.sum(32 * block, 32) + a.residualSum(32 * block, 32)
                    acc = acc.addingProduct(m[block], scale * Float(total))
                }
            }
        case .q4_K, .q5_K:
            for block in 0..<weights.count / 256 {
                var first = 0, second = 0, msum = 0
                for j in 0..<8 {
                    let start = 256 * block + 32 * j
                    first += subScales[8 * block + j] * integerDot(a.quants, start, 32)
                    second += subScales[8 * block + j] * integerDot(a.residuals, start, 32)
                    msum += subMins[8 * block + j] * (256 * a.sum(start, 32) + a.residualSum(start, 32))
                }
                let scale = a.scales[block], scale256 = a.scales[block] * 0x1p-8
                acc = acc.addingProduct(Float(first), d[block] * scale)
                acc = acc.addingProduct(Float(second), d[block] * scale256)
                acc = acc.addingProduct(-Float(msum), m[block] * scale256)
            }
        case .q6_K:
            for block in 0..<weights.count / 256 {
                var first = 0, second = 0
                for j in 0..<16 {
                    let start = 256 * block + 16 * j
                    first += subScales[16 * block + j] * integerDot(a.quants, start, 16)
                    second += subScales[16 * block + j] * integerDot(a.residuals, start, 16)
                }
                acc = acc.addingProduct(Float(first), d[block] * a.scales[block])
                acc = acc.addingProduct(Float(second), d[block] * (a.scales[block] * 0x1p-8))
            }
        default:
            preconditionFailure("no integer dot for \(type)")
        }
        return acc
    }
}
