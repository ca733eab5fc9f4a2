// Loops over the whole vocabulary (150K entries for Qwen) that sampling and logprobs run every
// token. Written so the compiler vectorizes them on the baseline x86-64 / arm64 targets, and with
// plain IEEE operations in a fixed order, so results are bit-identical on every platform.

/// e^x to within 1e-7 relative error (the Cephes single-precision polynomial); 0 below -87
/// (where e^x leaves the normal floats), hence for -infinity, and 0 for NaN.
///
/// Branch-free and free of library calls, so loops calling it vectorize; the rounding uses the
/// 1.5·2²³ trick because `rounded()` is a library call on SSE2.
@inline(__always)
func fastExp(_ x: Float) -> Float {
    let clamped = Swift.min(Swift.max(x, -87), 88)
    let roundingShift: Float = 12_582_912  // 1.5 · 2²³: adding it rounds to an integer kept in the low mantissa bits
    let shifted = clamped * 1.442_695_04 + roundingShift  // x / ln 2, rounded
    let n = shifted - roundingShift
    // r = x - n·ln 2, with ln 2 split in two so the product is exact.
    let r = clamped - n * 0.693_359_375 + n * 2.121_944_40e-4
    var p: Float = 1.987_569_150e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let expR = p * (r * r) + r + 1
    let twoToN = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)  // 2ⁿ built from its exponent bits
    return x >= -87 ? expR * twoToN : 0  // NaN compares false
}

/// values[i] = e^((values[i] - maximum) · scale) for i in 0..<count.
func exponentiate(_ values: UnsafeMutablePointer<Float>, count: Int, subtracting maximum: Float, scale: Float) {
    for index in 0..<count {
        values[index] = fastExp((values[index] - maximum) * scale)
    }
}

/// Σ values[0..<count] accumulated in Double, eight lanes then lane by lane in a fixed order.
func sumInDouble(_ values: UnsafePointer<Float>, count: Int) -> Double {
    let raw = UnsafeRawPointer(values)
    var lanes = SIMD8<Double>()
    var index = 0
    while index + 8 <= count {
        lanes += SIMD8<Double>(raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self))
        index += 8
    }
    var sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
    while index < count {
        sum += Double(values[index])
        index += 1
    }
    return sum
}

/// The largest of values[0..<count], ignoring NaN; -infinity when count is 0 or all are NaN.
func maximum(_ values: UnsafePointer<Float>, count: Int) -> Float {
    let raw = UnsafeRawPointer(values)
    var lanes = SIMD8<Float>(repeating: -.infinity)
    var index = 0
    while index + 8 <= count {
        let chunk = raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
        lanes.replace(with: chunk, where: chunk .> lanes)  // NaN compares false: ignored
        index += 8
    }
    var result = lanes.max()
    while index < count {
        if values[index] > result { result = values[index] }
        index += 1
    }
    return result
}

/// The lowest index holding the largest value (greedy decoding: ties go to the lowest token id).
/// With every value -infinity that is index 0; NaN values are never chosen (0 if all are NaN).
func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int {
    let largest = maximum(values, count: count)
    let raw = UnsafeRawPointer(values)
    let target = SIMD8<Float>(repeating: largest)
    var index = 0
    while index + 8 <= count {
        if any(raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self) .== target) { break }
        index += 8
    }
    while index < count {
        if values[index] == largest { return index }
        index += 1
    }
    return 0
}

