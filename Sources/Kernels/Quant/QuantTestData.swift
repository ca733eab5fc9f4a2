import GGUF

/// A small deterministic generator (SplitMix64) for reproducible kernel tests and benchmarks.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random inputs for the kernel self-test, tests and benchmarks.
public enum QuantTestData {
    /// `rowCount` GGUF rows of `columnCount` elements of `type`: random quant bits (every bit
    /// pattern is a valid block) with finite, moderate f16 scales; float types get values in ±1.
    public static func randomRows(type: GGMLType, rowCount: Int, columnCount: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        let byteCount = type.byteCount(elements: columnCount)! * rowCount
        switch type {
        case .f32:
            return (0..<rowCount * columnCount).flatMap { _ in withUnsafeBytes(of: Float.random(in: -1...1, using: &random).bitPattern) { Array($0) } }
        case .f16:
            return (0..<rowCount * columnCount).flatMap { _ in withUnsafeBytes(of: Float16(Float.random(in: -1...1, using: &random)).bitPattern) { Array($0) } }
        case .bf16:
            return (0..<rowCount * columnCount).flatMap { _ in withUnsafeBytes(of: UInt16(Float.random(in: -1...1, using: &random).bitPattern >> 16)) { Array($0) } }
        default:
            break
        }
        var bytes = (0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &random) }
        func setHalf(_ offset: Int, _ value: Float) {
            let bits = Float16(value).bitPattern
            bytes[offset] = UInt8(bits & 0xFF)
            bytes[offset + 1] = UInt8(bits >> 8)
        }
        func signed(_ magnitude: ClosedRange<Float>) -> Float {
            Float.random(in: magnitude, using: &random) * (Bool.random(using: &random) ? 1 : -1)
        }
        for block in 0..<byteCount / type.blockBytes {
            let base = block * type.blockBytes
            switch type {
            case .q4_0, .q5_0, .q8_0: setHalf(base, signed(0.001...0.05))
            case .q4_1, .q5_1: setHalf(base, signed(0.001...0.05)); setHalf(base + 2, signed(0...0.3))
            case .q4_K, .q5_K: setHalf(base, Float.random(in: 0.0005...0.01, using: &random)); setHalf(base + 2, Float.random(in: 0...0.01, using: &random))
            case .q6_K: setHalf(base + 208, signed(0.0005...0.01))
            default: break
            }
        }
        return bytes
    }

    /// `count` activations: mostly in ±1 with an occasional outlier (as real hidden states have).
    public static func randomActivations(count: Int, seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let value = Float.random(in: -1...1, using: &random)
            return Int.random(in: 0..<64, using: &random) == 0 ? value * 20 : value
        }
    }
}
