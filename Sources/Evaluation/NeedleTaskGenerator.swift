/// Builds RULER-style needle-in-a-haystack prompts (Hsieh et al., 2024, "RULER: What's the Real
/// Context Size of Your Long-Context Language Models?", task `niah`): needles "The special magic
/// number for <key> is <7 digits>." hidden in a haystack, the asked needle at the requested
/// depth, distractor needles (other keys) at random depths, the haystack grown to the largest
/// sentence count whose templated prompt fits the requested context.
///
/// Everything random comes from `seed` and the sample's coordinates (task, haystack, context,
/// depth, index), so a sample is the same whatever else the run contains.
public struct NeedleTaskGenerator: Sendable {
    public let format: any PromptFormat
    public let seed: UInt64

    static let instruction = "Some special magic numbers are hidden within the following text. Make sure to memorize it. I will quiz you about the numbers afterwards."

    public init(format: any PromptFormat, seed: UInt64) {
        self.format = format
        self.seed = seed
    }

    /// The sample at (`task`, `haystack`, `context`, `depth`, `index`).
    public func sample(task: EvaluationTask, haystack: Haystack, context: Int, depth: Double,
                       index: Int) throws -> NeedleSample {
        precondition(task.isNeedle, "\(task.rawValue) is not a needle task")
        precondition((0...1).contains(depth), "depth is a fraction")
        var random = TaskRandom(seed: seed, stream: [
            UInt64(EvaluationTask.allCases.firstIndex(of: task)!), UInt64(Haystack.Kind.allCases.firstIndex(of: haystack.kind)!),
            UInt64(context), UInt64((depth * 1000).rounded()), UInt64(index),
        ])
        let keys = NeedleKeys.keys(task.needleCount, random: &random)
        var needles: [Needle] = []
        for (position, key) in keys.enumerated() {
            let needleDepth = position == 0 ? depth : random.unit()
            needles.append(Needle(key: key, number: NeedleKeys.number(random: &random), depth: needleDepth, unitIndex: 0))
        }
        let start = random.integer(below: haystack.units.count)
        let asked = needles[0]
        let answerPrefix = "The special magic number for \(asked.key) mentioned in the provided text is"
        let question = "What is the special magic number for \(asked.key) mentioned in the provided text?"
        let document = try HaystackFiller.fill(
            haystack, start: start, insertions: needles.map { HaystackFiller.Insertion(sentence: $0.sentence, depth: $0.depth) },
            context: context) { text in
            try format.tokens(userMessage: Self.message(text, question: question), answerPrefix: answerPrefix)
        }
        for position in needles.indices { needles[position].unitIndex = document.unitIndices[position] }
        return NeedleSample(task: task, haystack: haystack.kind, context: context, depth: depth, sampleIndex: index,
                            needles: needles, userMessage: Self.message(document.text, question: question), answerPrefix: answerPrefix,
                            tokens: document.tokens, haystackUnitCount: document.unitCount)
    }

    /// The user's message: the instruction, the document, the question.
    static func message(_ document: String, question: String) -> String {
        instruction + "\n" + document + "\n" + question
    }
}
