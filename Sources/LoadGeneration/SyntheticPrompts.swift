/// Deterministic synthetic prompts of about a given number of tokens, different for every
/// (stream, index) so a prefix cache cannot make a load test trivial, optionally all starting
/// with the same prefix (for prefix-cache runs).
///
/// The text is lowercase sentences of common English words; each word (with its leading
/// space) and each period is one token in the byte-level BPE vocabularies of SmolLM2,
/// Qwen2.5 and Llama 3, so the count is close to the tokenizer's (the report shows the
/// server's own `usage.prompt_tokens`). The same seed gives the same text on every machine.
public struct SyntheticPrompts: Sendable {
    public let seed: UInt64
    /// Tokens of the user message (chat templates add their own few).
    public let promptTokens: Int
    /// Tokens at the start of every prompt that are the same for all of them.
    public let sharedPrefixTokens: Int

    public init(seed: UInt64, promptTokens: Int, sharedPrefixTokens: Int = 0) {
        precondition(promptTokens >= 1 && sharedPrefixTokens >= 0 && sharedPrefixTokens <= promptTokens)
        self.seed = seed; self.promptTokens = promptTokens; self.sharedPrefixTokens = sharedPrefixTokens
    }

    /// The prompt of request `index` in `stream` (one stream per level and phase, so no two
    /// requests of a run share text beyond the shared prefix).
    public func prompt(stream: Int, index: Int) -> String {
        let ownTokens = promptTokens - sharedPrefixTokens
        let own = Self.text(tokenCount: ownTokens, seed: Self.mix(seed, UInt64(stream), UInt64(index)))
        guard sharedPrefixTokens > 0 else { return own }
        let shared = Self.text(tokenCount: sharedPrefixTokens, seed: Self.mix(seed, 0x5348_4152_4544))  // "SHARED"
        return own.isEmpty ? shared : shared + " " + own
    }

    /// A short follow-up question for turn `turn` of conversation `index` in `stream`.
    public func question(stream: Int, index: Int, turn: Int) -> String {
        let words = Self.text(tokenCount: 12, seed: Self.mix(seed, UInt64(stream), UInt64(index), UInt64(turn) &+ 0x5155))
        return "now explain why " + words.dropLast() + "?"
    }

    /// About `tokenCount` tokens of sentences: 6–15 words and a period each (the last sentence
    /// is cut to fit). Deterministic in `seed`.
    public static func text(tokenCount: Int, seed: UInt64) -> String {
        guard tokenCount > 0 else { return "" }
        var random = SplitMix64(seed: seed)
        var words: [String] = []
        words.reserveCapacity(tokenCount)
        var used = 0
        var text = ""
        while used < tokenCount {
            let length = min(6 + Int(random.next() % 10), max(tokenCount - used - 1, 1))
            words.removeAll(keepingCapacity: true)
            for _ in 0..<length { words.append(vocabulary[Int(random.next() % UInt64(vocabulary.count))]) }
            if !text.isEmpty { text += " " }
            text += words.joined(separator: " ") + "."
            used += length + 1
        }
        return text
    }

    /// Mixes values into one seed (SplitMix64's finalizer after each).
    static func mix(_ values: UInt64...) -> UInt64 {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for value in values {
            var generator = SplitMix64(seed: state ^ value)
            state = generator.next()
        }
        return state
    }

    /// Common lowercase English words, single tokens with a leading space in the BPE
    /// vocabularies above.
    static let vocabulary: [String] = [
        "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not",
        "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were",
        "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would",
        "who", "so", "no", "she", "other", "its", "may", "these", "what", "them", "than", "some", "him", "time",
        "into", "only", "do", "new", "about", "two", "most", "any", "like", "could", "out", "our", "then", "many",
        "also", "first", "well", "over", "after", "such", "made", "did", "where", "back", "years", "used", "very",
        "way", "just", "water", "people", "work", "world", "long", "day", "good", "great", "old", "same", "part",
        "year", "place", "city", "small", "house", "light", "river", "stone", "music", "book", "school", "open",
        "early", "green", "black", "white", "red", "blue", "short", "high", "low", "large", "young", "free", "hand",
        "game", "line", "land", "power", "road", "field", "market", "paper", "story", "table", "window", "garden",
        "family", "friend", "letter", "morning", "evening", "summer", "winter", "north", "south", "east", "west",
        "rain", "fire", "food", "heart", "mind", "voice", "word", "number", "point", "form", "state", "money",
        "week", "child", "car", "door", "room", "body", "face", "life", "night", "home", "side", "head", "area",
        "name", "order", "group", "sound", "change", "train", "ship", "bridge", "island", "forest", "valley",
        "mountain", "ocean", "sea", "sky", "sun", "moon", "star", "tree", "flower", "bird", "horse", "dog", "cat",
        "fish", "bread", "milk", "salt", "gold", "iron", "glass", "wood", "wall", "floor", "street", "village",
        "church", "castle", "king", "queen", "army", "war", "peace", "law", "court", "bank", "shop", "price",
        "cost", "plan", "idea", "reason", "question", "answer", "problem", "result", "method", "system", "simple",
        "clear", "strong", "quiet", "slow", "fast", "warm", "cold", "dark", "bright", "deep", "wide", "walk", "run",
        "read", "write", "speak", "learn", "build", "carry", "move", "turn", "stay", "wait", "grow", "bring",
        "hold", "keep", "leave", "meet", "pay", "play", "send", "sit", "stand", "watch", "follow", "find",
    ]
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, well-mixed 64-bit generator; the same
/// seed gives the same sequence everywhere.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
