import Sampling
import Testing

@Suite struct SamplerRNGTests {
    /// Outputs of the reference C implementation in scripts/fixtures/sampler_rng_vectors.c
    /// (xoshiro256** seeded with four SplitMix64 outputs): outputs 1–5 and 1000.
    @Test(arguments: [
        (UInt64(0),          [0x99ec_5f36_cb75_f2b4, 0xbf6e_1f78_4956_452a, 0x1a5f_849d_4933_e6e0, 0x6aa5_94f1_262d_2d2c, 0xbba5_ad4a_1f84_2e59] as [UInt64], UInt64(0x7aac_8c48_3a2e_dd2f)),
        (UInt64(42),         [0x1578_0b2e_0c2e_c716, 0x6104_d986_6d11_3a7e, 0xae17_5332_39e4_99a1, 0xecb8_ad47_03b3_60a1, 0xfde6_dc7f_e2ec_5e64] as [UInt64], UInt64(0x8de5_848c_61ab_8968)),
        (UInt64.max,         [0x8f55_20d5_2a7e_ad08, 0xc476_a018_caa1_802d, 0x81de_31c0_d260_469e, 0xbf65_8d7e_065f_3c2f, 0x9135_93fd_a1bc_a32a] as [UInt64], UInt64(0xc3c9_3ea5_cde4_34cc)),
    ])
    func matchesTheReferenceImplementation(seed: UInt64, first: [UInt64], thousandth: UInt64) {
        var random = SamplerRNG(seed: seed)
        #expect((0..<5).map { _ in random.next() } == first)
        for _ in 5..<999 { _ = random.next() }
        #expect(random.next() == thousandth)
    }

    @Test func doublesAreUniformInTheUnitInterval() {
        var random = SamplerRNG(seed: 7)
        let values = (0..<100_000).map { _ in random.nextDouble() }
        #expect(values.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = values.reduce(0, +) / Double(values.count)
        #expect(abs(mean - 0.5) < 0.005)  // σ of the mean: 0.29 / √100000 ≈ 0.0009
        // Ten equal bins within ±5% of 10,000 each (σ ≈ 95).
        var bins = [Int](repeating: 0, count: 10)
        for value in values { bins[Int(value * 10)] += 1 }
        #expect(bins.allSatisfy { abs($0 - 10_000) < 500 }, "\(bins)")
        // nextDouble uses the top 53 bits of next().
        var a = SamplerRNG(seed: 3), b = SamplerRNG(seed: 3)
        #expect(a.nextDouble() == Double(b.next() >> 11) / 9_007_199_254_740_992)
    }

    @Test func sameSeedSameStreamDifferentSeedsDiffer() {
        var a = SamplerRNG(seed: 123), b = SamplerRNG(seed: 123), c = SamplerRNG(seed: 124)
        let streamA = (0..<100).map { _ in a.next() }
        #expect(streamA == (0..<100).map { _ in b.next() })
        #expect(streamA != (0..<100).map { _ in c.next() })
        #expect(a == b)
    }
}
