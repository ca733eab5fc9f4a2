/// Builds the prompts of the KV compression tasks (RULER's multi-value and multi-query needles
/// and variable tracking, and a second-turn needle question), seeded like the needle tasks:
/// a sample depends only on the seed and its coordinates.
public struct CompressionTaskGenerator: Sendable {
    public let format: any PromptFormat
    public let seed: UInt64

    /// Needles per listing task (RULER's default of four values or queries).
    public static let listedNeedles = 4
    /// Variables in the tracked chain (RULER's one chain of four hops).
    public static let chainVariables = 5

    static let variableInstruction = "Memorize and track the chain(s) of variable assignment hidden in the following text."
    static let summaryRequest = "Before I ask my question, summarize the text above in two sentences."

    public init(format: any PromptFormat, seed: UInt64) {
        self.format = format
        self.seed = seed
    }

    /// The sample at (`task`, `haystack`, `context`, `depth`, `index`): its prompt fills
    /// `context` less the tokens the task generates (second-turn: less the summary, the question
    /// turn and the answer too). `depth` places the first needle or assignment; the other
    /// needles go to random depths, the chain's later assignments evenly after the first.
    public func sample(task: CompressionTask, haystack: Haystack, context: Int, depth: Double,
                       index: Int) throws -> CompressionSample {
        precondition(task.isNeedle, "\(task.rawValue) has no generated prompt")
        precondition((0...1).contains(depth), "depth is a fraction")
        var random = TaskRandom(seed: seed, stream: [
            100 + UInt64(CompressionTask.allCases.firstIndex(of: task)!),
            UInt64(Haystack.Kind.allCases.firstIndex(of: haystack.kind)!),
            UInt64(context), UInt64((depth * 1000).rounded()), UInt64(index),
        ])
        var room = context - task.answerTokens
        if task == .secondTurn { room -= CompressionTask.summaryTokens + CompressionTask.questionTurnTokens }

        var insertions: [HaystackFiller.Insertion] = []
        var expected: [String] = []
        var instruction = NeedleTaskGenerator.instruction
        var question: String
        var answerPrefix: String
        var followUp: (question: String, answerPrefix: String)?
        switch task {
        case .multiValue:
            let key = NeedleKeys.keys(1, random: &random)[0]
            for position in 0..<Self.listedNeedles {
                let number = NeedleKeys.number(random: &random)
                expected.append(number)
                insertions.append(.init(sentence: Needle(key: key, number: number, depth: 0, unitIndex: 0).sentence,
                                        depth: position == 0 ? depth : random.unit()))
            }
            question = "What are all the special magic numbers for \(key) mentioned in the provided text?"
            answerPrefix = "The special magic numbers for \(key) mentioned in the provided text are"
        case .multiQuery:
            let keys = NeedleKeys.keys(Self.listedNeedles, random: &random)
            for (position, key) in keys.enumerated() {
                let number = NeedleKeys.number(random: &random)
                expected.append(number)
                insertions.append(.init(sentence: Needle(key: key, number: number, depth: 0, unitIndex: 0).sentence,
                                        depth: position == 0 ? depth : random.unit()))
            }
            let listed = keys.dropLast().joined(separator: ", ") + " and " + keys.last!
            question = "What are all the special magic numbers for \(listed) mentioned in the provided text?"
            answerPrefix = "The special magic numbers for \(listed) mentioned in the provided text are"
        case .variableTracking:
            instruction = Self.variableInstruction
            let value = String(random.integer(in: 10_000...99_999))
            let names = Self.variableNames(Self.chainVariables, random: &random)
            for (position, name) in names.enumerated() {
                let assigned = position == 0 ? value : "VAR \(names[position - 1])"
                insertions.append(.init(sentence: "VAR \(name) = \(assigned). ",
                                        depth: depth + (1 - depth) * Double(position) / Double(names.count)))
            }
            expected = names
            question = "Question: Find all variables that are assigned the value \(value) in the text above."
            answerPrefix = "Answer: According to the chain(s) of variable assignment in the text above, \(names.count) variables are assigned the value \(value), they are:"
        case .secondTurn:
            let key = NeedleKeys.keys(1, random: &random)[0]
            let number = NeedleKeys.number(random: &random)
            expected = [number]
            insertions = [.init(sentence: Needle(key: key, number: number, depth: depth, unitIndex: 0).sentence, depth: depth)]
            question = Self.summaryRequest
            answerPrefix = ""
            followUp = ("What is the special magic number for \(key) mentioned in the provided text?",
                        "The special magic number for \(key) mentioned in the provided text is")
        case .decodeKL:
            preconditionFailure("unreachable")
        }
        let start = random.integer(below: haystack.units.count)
        let document = try HaystackFiller.fill(haystack, start: start, insertions: insertions, context: room) { text in
            try format.tokens(userMessage: instruction + "\n" + text + "\n" + question, answerPrefix: answerPrefix)
        }
        return CompressionSample(task: task, haystack: haystack.kind, context: context, depth: depth, sampleIndex: index,
                                 turns: [ChatTurn(.user, instruction + "\n" + document.text + "\n" + question)],
                                 answerPrefix: answerPrefix, tokens: document.tokens, expected: expected,
                                 question: followUp?.question, questionAnswerPrefix: followUp?.answerPrefix)
    }

    /// `count` distinct names of five capital letters (RULER's variable names).
    static func variableNames(_ count: Int, random: inout TaskRandom) -> [String] {
        var names: [String] = []
        while names.count < count {
            let name = String((0..<5).map { _ in Character(Unicode.Scalar(UInt8(65 + random.integer(below: 26)))) })
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// second-turn: the tokens that follow the first turn's prompt once `summary` is its reply
    /// (the summary, the end of that turn, the question turn, the answer prefix), and the index
    /// among them where the summary ends. The conversation must render with the first turn's
    /// prompt as its prefix.
    public func secondTurnTokens(_ sample: CompressionSample, summary: String) throws -> (tokens: [Int32], questionStart: Int) {
        guard let question = sample.question, let prefix = sample.questionAnswerPrefix else {
            preconditionFailure("only second-turn samples have a second turn")
        }
        let conversation = sample.turns + [ChatTurn(.assistant, summary), ChatTurn(.user, question)]
        let full = try format.tokens(turns: conversation, answerPrefix: prefix)
        guard full.count > sample.tokens.count, full.starts(with: sample.tokens) else {
            throw EvaluationError.invalidOption("the chat template does not render the second turn as a continuation of the first; second-turn needs a template that appends turns")
        }
        // The summary as the first turn's reply, tokenized in place; when the template rewrites
        // the reply (trims it, say), the whole continuation counts as the question.
        let withSummary = try format.tokens(turns: sample.turns, answerPrefix: summary)
        let questionStart = full.starts(with: withSummary) ? withSummary.count - sample.tokens.count : 0
        return (Array(full[sample.tokens.count...]), questionStart)
    }
}
