import Sampling

/// The random stream of task generation: xoshiro256** (`SamplerRNG`) with unbiased integer
/// draws of our own, so a seed gives the same tasks on every platform, build and Swift version
/// (the standard library does not promise how `Int.random(in:using:)` consumes bits).
public struct TaskRandom: Sendable {
    private var generator: SamplerRNG

    public init(seed: UInt64) {
        generator = SamplerRNG(seed: seed)
    }

    /// A stream derived from `seed` and the coordinates of one sample, independent of how many
    /// other samples were drawn before it (adding a depth or a policy changes no other sample).
    public init(seed: UInt64, stream: [UInt64]) {
        var mixed = seed
        for value in stream {
            mixed = (mixed ^ value) &* 0x9E37_79B9_7F4A_7C15
            mixed ^= mixed >> 29
        }
        generator = SamplerRNG(seed: mixed)
    }

    /// Uniform in 0..<bound (rejection sampling: no modulo bias).
    public mutating func integer(below bound: Int) -> Int {
        precondition(bound > 0, "empty range")
        let range = UInt64(bound)
        let limit = UInt64.max - UInt64.max % range
        while true {
            let bits = generator.next()
            if bits < limit { return Int(bits % range) }
        }
    }

    /// Uniform in `range`.
    public mutating func integer(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + integer(below: range.upperBound - range.lowerBound + 1)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double {
        generator.nextDouble()
    }

    /// `count` distinct indices of 0..<bound, in draw order.
    public mutating func distinctIntegers(_ count: Int, below bound: Int) -> [Int] {
        precondition(count <= bound, "cannot draw \(count) distinct values below \(bound)")
        var chosen: [Int] = []
        var seen = Set<Int>()
        while chosen.count < count {
            let value = integer(below: bound)
            if seen.insert(value).inserted { chosen.append(value) }
        }
        return chosen
    }
}
