/// The set of tokens allowed at one step, a bitset over the vocabulary (1 bit per token).
///
/// Grammar-constrained decoding computes one per step and passes it to
/// `Sampler.sample(logits:mask:)`, which sets the logit of every other token to -infinity after
/// bias and penalties. To stay allocation-free, keep one mask per session and refill it in place
/// (`disallowAll()` then `allow(_:)`, or `allowAll()` then `disallow(_:)`).
public struct TokenMask: Sendable, Equatable {
    public let vocabularySize: Int
    /// ((vocabularySize + 63) / 64) bit `t % 64` of word `t / 64` is set when token t is allowed;
    /// bits past the vocabulary stay 0.
    private var words: [UInt64]

    /// A mask allowing every token (`allowingAll` true) or none.
    public init(vocabularySize: Int, allowingAll: Bool = true) {
        self.vocabularySize = max(vocabularySize, 0)
        words = [UInt64](repeating: 0, count: (self.vocabularySize + 63) / 64)
        if allowingAll { allowAll() }
    }

    /// A mask allowing exactly the given tokens (ids outside the vocabulary are ignored).
    public init(vocabularySize: Int, allowing tokens: some Sequence<Int32>) {
        self.init(vocabularySize: vocabularySize, allowingAll: false)
        for token in tokens { allow(token) }
    }

    /// A mask allowing the tokens for which `isAllowed` returns true (called once per token).
    public init(vocabularySize: Int, where isAllowed: (Int32) -> Bool) {
        self.init(vocabularySize: vocabularySize, allowingAll: false)
        for token in 0..<Int32(truncatingIfNeeded: self.vocabularySize) where isAllowed(token) {
            allow(token)
        }
    }

    public func allows(_ token: Int32) -> Bool {
        guard token >= 0, Int(token) < vocabularySize else { return false }
        return words[Int(token) >> 6] & (1 << UInt64(token & 63)) != 0
    }

    /// Allows `token`; ids outside the vocabulary are ignored.
    public mutating func allow(_ token: Int32) {
        guard token >= 0, Int(token) < vocabularySize else { return }
        words[Int(token) >> 6] |= 1 << UInt64(token & 63)
    }

    /// Disallows `token`; ids outside the vocabulary are ignored.
    public mutating func disallow(_ token: Int32) {
        guard token >= 0, Int(token) < vocabularySize else { return }
        words[Int(token) >> 6] &= ~(1 << UInt64(token & 63))
    }

    public mutating func allowAll() {
        for index in words.indices { words[index] = ~0 }
        let tailBits = vocabularySize & 63
        if tailBits != 0 { words[words.count - 1] = (1 << UInt64(tailBits)) - 1 }
    }

    public mutating func disallowAll() {
        for index in words.indices { words[index] = 0 }
    }

    /// How many tokens are allowed.
    public var allowedCount: Int {
        words.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    /// Sets the logit of every disallowed token to -infinity. Cost: one test per 64 tokens, plus
    /// one store per disallowed token.
    public func apply(to logits: UnsafeMutablePointer<Float>) {
        words.withUnsafeBufferPointer { words in
            for wordIndex in words.indices {
                let word = words[wordIndex]
                if word == ~0 { continue }
                let base = wordIndex << 6
                let end = min(base + 64, vocabularySize)
                if word == 0 {
                    for token in base..<end { logits[token] = -.infinity }
                    continue
                }
                var disallowed = ~word
                while disallowed != 0 {
                    let token = base + disallowed.trailingZeroBitCount
                    if token >= end { break }
                    logits[token] = -.infinity
                    disallowed &= disallowed &- 1
                }
            }
        }
    }
}
