import GGUF

/// GGUF tensor rows to fp32, in plain Swift: the reference of every quantized kernel and the
/// embedding lookup. Formulas and rounding follow ggml's `dequantize_row_*` (and gguf-py's
/// `gguf.quants.dequantize`, which the fixtures in Tests/Fixtures/quant come from).
public enum Dequantize {
    /// Types `row` supports.
    public static let supportedTypes: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    /// Dequantizes `count` elements (a multiple of `type.blockSize`) from GGUF blocks at `source`.
    public static func row(_ type: GGMLType, from source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % type.blockSize == 0, "\(type) rows hold a multiple of \(type.blockSize) elements")
        switch type {
        case .f32:
            for i in 0..<count { destination[i] = Float(bitPattern: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
            return
        case .f16:
            for i in 0..<count { destination[i] = half(source, 2 * i) }
            return
        case .bf16:
            for i in 0..<count { destination[i] = Float(bitPattern: UInt32(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
            return
        default:
            break
        }
        for block in 0..<count / type.blockSize {
            let base = source + block * type.blockBytes
            let out = destination + block * type.blockSize
            switch type {
            case .q8_0:
                let d = half(base, 0)
                for i in 0..<32 { out[i] = Float(base.load(fromByteOffset: 2 + i, as: Int8.self)) * d }
            case .q4_0, .q4_1:
                let hasMin = type == .q4_1
                let d = half(base, 0), m = hasMin ? half(base, 2) : 0
                let quants = hasMin ? 4 : 2
                for j in 0..<16 {
                    let byte = base.load(fromByteOffset: quants + j, as: UInt8.self)
                    if hasMin {
                        out[j] = Float(byte & 0xF) * d + m
                        out[j + 16] = Float(byte >> 4) * d + m
                    } else {
                        out[j] = Float(Int(byte & 0xF) - 8) * d
                        out[j + 16] = Float(Int(byte >> 4) - 8) * d
                    }
                }
            case .q5_0, .q5_1:
                let hasMin = type == .q5_1
                let d = half(base, 0), m = hasMin ? half(base, 2) : 0
                let highOffset = hasMin ? 4 : 2
                let high = base.loadUnaligned(fromByteOffset: highOffset, as: UInt32.self)
                for j in 0..<16 {
                    let byte = base.load(fromByteOffset: highOffset + 4 + j, as: UInt8.self)
                    let low = Int(byte & 0xF) | Int((high >> UInt32(j)) & 1) << 4
                    let upper = Int(byte >> 4) | Int((high >> UInt32(j + 16)) & 1) << 4
                    if hasMin {
                        out[j] = Float(low) * d + m
                        out[j + 16] = Float(upper) * d + m
                    } else {
                        out[j] = Float(low - 16) * d
                        out[j + 16] = Float(upper - 16) * d
                    }
                }
            case .q4_K, .q5_K:
                let d = half(base, 0), dmin = half(base, 2)
                let scales = base + 4
                let isQ5 = type == .q5_K
                let high = base + 16                         // Q5_K: 32 bytes of high bits
                let quants = base + (isQ5 ? 48 : 16)
                for i in 0..<4 {                             // 64 elements: sub-blocks 2i (low nibbles), 2i+1 (high)
                    let (scale0, min0) = kQuantScaleMin(2 * i, scales)
                    let (scale1, min1) = kQuantScaleMin(2 * i + 1, scales)
                    let d0 = d * Float(scale0), m0 = dmin * Float(min0)
                    let d1 = d * Float(scale1), m1 = dmin * Float(min1)
                    for l in 0..<32 {
                        let byte = quants.load(fromByteOffset: 32 * i + l, as: UInt8.self)
                        var low = Int(byte & 0xF), upper = Int(byte >> 4)
                        if isQ5 {
                            let bits = high.load(fromByteOffset: l, as: UInt8.self)
                            low |= Int((bits >> UInt8(2 * i)) & 1) << 4
                            upper |= Int((bits >> UInt8(2 * i + 1)) & 1) << 4
                        }
                        out[64 * i + l] = d0 * Float(low) - m0
                        out[64 * i + 32 + l] = d1 * Float(upper) - m1
                    }
                }
            case .q6_K:
                let d = half(base, 208)
                for part in 0..<256 {
                    let (q, scale) = q6KQuant(base, part)
                    out[part] = d * Float(scale) * Float(q - 32)
                }
            default:
                preconditionFailure("Dequantize.row does not support \(type); supported: \(supportedTypes)")
            }
        }
    }

    /// IEEE half at `offset` bytes from `base`.
    @inline(__always)
    static func half(_ base: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// Q4_K / Q5_K 6-bit scale and min of sub-block `j` from the 12 packed bytes (ggml get_scale_min_k4).
    static func kQuantScaleMin(_ j: Int, _ scales: UnsafeRawPointer) -> (scale: Int, min: Int) {
        func byte(_ i: Int) -> Int { Int(scales.load(fromByteOffset: i, as: UInt8.self)) }
        if j < 4 { return (byte(j) & 63, byte(j + 4) & 63) }
        return ((byte(j + 4) & 0xF) | (byte(j - 4) >> 6) << 4, (byte(j + 4) >> 4) | (byte(j) >> 6) << 4)
    }

    /// Element `index` (0..<256) of a Q6_K block: the stored 6-bit quant (value + 32) and its int8 scale.
    ///
    /// A block is two halves of 128 elements; in half h, element 32p + l (p < 4, l < 32) takes its
    /// low 4 bits from ql[64h + l + 32(p % 2)] (low nibble for p < 2, high for p ≥ 2), its high
    /// 2 bits from bits 2p, 2p+1 of qh[32h + l], and scale scales[8h + 2p + l / 16].
    static func q6KQuant(_ block: UnsafeRawPointer, _ index: Int) -> (q: Int, scale: Int) {
        let half = index / 128, part = index % 128 / 32, l = index % 32
        let lowByte = Int(block.load(fromByteOffset: 64 * half + l + 32 * (part % 2), as: UInt8.self))
        let low = part < 2 ? lowByte & 0xF : lowByte >> 4
        let high = Int(block.load(fromByteOffset: 128 + 32 * half + l, as: UInt8.self)) >> (2 * part) & 3
        let scale = Int(block.load(fromByteOffset: 192 + 8 * half + 2 * part + l / 16, as: Int8.self))
        return (low | high << 4, scale)
    }
}
