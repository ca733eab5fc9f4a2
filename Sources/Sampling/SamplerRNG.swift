/// The random stream of one request: xoshiro256** (Blackman & Vigna, 2018) seeded through
/// SplitMix64, as the authors recommend.
///
/// Pure integer arithmetic, so a seed gives the same stream on every platform and build. Each
/// request owns its generator (there is no global one), which is what keeps sampled tokens
/// independent of how requests are batched: a request consumes exactly one `nextDouble()` per
/// non-greedy token, whatever runs beside it.
public struct SamplerRNG: RandomNumberGenerator, Sendable, Equatable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = SplitMix64(state: seed)
        state = (splitMix.next(), splitMix.next(), splitMix.next(), splitMix.next())
        // SplitMix64 is a bijection of a counter, so four zero outputs in a row cannot happen;
        // xoshiro's only forbidden state is all zeros.
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, by: 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotateLeft(state.3, by: 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits (every value a multiple of 2⁻⁵³).
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    public static func == (a: SamplerRNG, b: SamplerRNG) -> Bool {
        a.state == b.state
    }
}

/// Sebastiano Vigna's SplitMix64: turns one 64-bit seed into well-mixed state words.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@inline(__always)
private func rotateLeft(_ value: UInt64, by count: UInt64) -> UInt64 {
    (value << count) | (value >> (64 - count))
}
