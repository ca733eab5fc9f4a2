import Kernels
import Testing

/// ei_f32_to_f16_row / ei_f16_to_f32_row at every level against Swift's Float16 conversions.
@Suite struct HalfPrecisionTests {
    @Test func everyHalfWidensExactly() {
        let halves = Array(0...UInt16.max)
        for isa in KernelISA.available {
            var floats = [Float](repeating: 0, count: halves.count)
            HalfPrecision.convert(halves, to: &floats, count: halves.count, isa: isa)
            for (index, bits) in halves.enumerated() {
                let expected = HalfPrecision.referenceFloat(bits)
                if expected.isNaN {
                    #expect(floats[index].isNaN, "[\(isa)] 0x\(String(bits, radix: 16))")
                } else if floats[index].bitPattern != expected.bitPattern {
                    Issue.record("[\(isa)] 0x\(String(bits, radix: 16)) -> \(floats[index]), expected \(expected)")
                    return
                }
            }
        }
    }

    @Test func narrowingRoundsToNearestEven() {
        // Ties, the largest half, overflow to infinity, subnormal halves, underflow to zero.
        var values: [Float] = [0, -0, 1, 1.0009765625 / 2 + 0.5, 2049, 2051, 65504, 65519, 65520, -65536, 1e9,
                               5.9604645e-8, 2.9802322e-8, 2.9802326e-8, 8.940697e-8, 6.1035156e-5, 6.0975552e-5, 1e-10,
                               .infinity, -.infinity]
        var random = SplitMix64(seed: 1)
        values += (0..<20_000).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &random)) }.filter { !$0.isNaN }
        values += (0..<20_000).map { _ in Float.random(in: -1e-3...1e-3, using: &random) }
        for isa in KernelISA.available {
            // Odd counts exercise the vector tails.
            for count in [values.count, 13, 1] {
                var halves = [UInt16](repeating: 0, count: count)
                HalfPrecision.convert(values, to: &halves, count: count, isa: isa)
                let wrong = (0..<count).filter { halves[$0] != HalfPrecision.referenceHalf(values[$0]) }
                #expect(wrong.isEmpty, "[\(isa)] \(wrong.count) wrong, first \(wrong.first.map { "\(values[$0])" } ?? "")")
            }
            var nan = [UInt16](repeating: 0, count: 1)
            HalfPrecision.convert([Float.nan], to: &nan, count: 1, isa: isa)
            #expect(nan[0] & 0x7C00 == 0x7C00 && nan[0] & 0x3FF != 0, "[\(isa)] NaN stays NaN")
        }
    }
}
