/// One needle: a key and its number, placed between haystack units.
public struct Needle: Sendable, Equatable {
    public var key: String
    public var number: String
    /// Where it was asked to go, as a fraction of the haystack (0 = start, 1 = end).
    public var depth: Double
    /// Haystack units before it.
    public var unitIndex: Int

    public var sentence: String { "The special magic number for \(key) is \(number). " }
}

/// One generated needle-in-a-haystack prompt and its expected answer.
public struct NeedleSample: Sendable {
    public var task: EvaluationTask
    public var haystack: Haystack.Kind
    /// The context length the sample was made for: `tokens.count` is at most this (the runner
    /// asks for a prompt that leaves room for the answer and then records the full context).
    public var context: Int
    /// Requested depth of the asked needle.
    public var depth: Double
    public var sampleIndex: Int
    /// Every needle, the asked one first (distractors follow; not in document order).
    public var needles: [Needle]
    public var userMessage: String
    public var answerPrefix: String
    /// The templated, tokenized prompt.
    public var tokens: [Int32]
    public var haystackUnitCount: Int

    /// The needle the question asks about.
    public var asked: Needle { needles[0] }
    public var expectedAnswer: String { asked.number }

    /// Depth of the asked needle as placed: units before it over units in the haystack.
    public var placedDepth: Double {
        haystackUnitCount == 0 ? 0 : Double(asked.unitIndex) / Double(haystackUnitCount)
    }
}
