import Tokenization

/// What `entropyinfer eval --kv-compression` measures: tasks whose answers run past the
/// output-aware compression step (the first `decode_gap` generated tokens), so the answer is
/// read, at least in part, from the compressed cache.
public enum CompressionTask: String, Sendable, CaseIterable, Comparable {
    /// RULER's multi-value needle: one key with four numbers at different depths; the answer
    /// lists all four (about 40 generated tokens with digit-wise tokenizers).
    case multiValue = "niah-multivalue"
    /// RULER's multi-query needle: four keys; the answer lists the number of each.
    case multiQuery = "niah-multiquery"
    /// RULER's variable tracking: a chain `VAR A = 12345`, `VAR B = VAR A`, … of five variables
    /// spread over the haystack; the answer names every variable holding the value.
    case variableTracking = "vt"
    /// Question-agnostic: the first turn holds the document and asks for a summary (the
    /// uncompressed model's greedy summary is the reply every policy reads, so compression has
    /// run before the question exists); the second turn asks for the needle's number.
    case secondTurn = "second-turn"
    /// Next-token distributions against the uncompressed cache along a long continuation:
    /// the corpus text (the Debian licenses, or `--corpus`) after a window of context −
    /// `generatedTokens` tokens, teacher-forced, every step scored (NLL, KL, top-1).
    case decodeKL = "decode-kl"

    public var isNeedle: Bool { self != .decodeKL }

    /// Greedy answer tokens generated for the task (decode-kl: none, its continuation is forced).
    public var answerTokens: Int {
        switch self {
        case .multiValue, .multiQuery: return 64
        case .variableTracking: return 32
        case .secondTurn: return 16
        case .decodeKL: return 0
        }
    }

    /// second-turn: the first turn's summary, at most this many tokens.
    public static let summaryTokens = 48
    /// second-turn: room left for the closing of the summary turn and the question's turn.
    public static let questionTurnTokens = 64

    public static func < (a: CompressionTask, b: CompressionTask) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One generated compression task prompt and what its answer must contain.
public struct CompressionSample: Sendable {
    public var task: CompressionTask
    public var haystack: Haystack.Kind
    public var context: Int
    public var depth: Double
    public var sampleIndex: Int
    /// The conversation so far (second-turn: the first turn only) and the start of the answer.
    public var turns: [ChatTurn]
    public var answerPrefix: String
    /// The templated, tokenized prompt of `turns` + `answerPrefix`.
    public var tokens: [Int32]
    /// Strings a full answer contains (the needle numbers, the variable names).
    public var expected: [String]
    /// second-turn: the question of the second turn and its answer prefix.
    public var question: String?
    public var questionAnswerPrefix: String?

    /// Where the expected strings sit in the prompt: every run of tokens that encodes one of
    /// them, as it does alone or after a space (a number inside a sentence, a variable name after
    /// `VAR `). What the evaluation watches to tell which streams still held a needle.
    public func expectedSpans(_ tokenizer: any Tokenizer) -> [Range<Int>] {
        let encodings = expected.map { text in
            [text, " " + text].map { tokenizer.encode($0, addSpecial: false, parseSpecial: false) }.filter { !$0.isEmpty }
        }
        return Self.spans(of: encodings, in: tokens)
    }

    /// Every run of `tokens` equal to one of each string's encodings (its first matching
    /// encoding at a start), ascending, not overlapping within a string.
    public static func spans(of encodings: [[[Int32]]], in tokens: [Int32]) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        for alternatives in encodings {
            var start = 0
            while start < tokens.count {
                if let match = alternatives.first(where: { start + $0.count <= tokens.count && tokens[start..<start + $0.count].elementsEqual($0) }) {
                    spans.append(start..<start + match.count)
                    start += match.count
                } else {
                    start += 1
                }
            }
        }
        return spans.sorted { $0.lowerBound < $1.lowerBound }
    }

    /// The answer's score: second-turn, the first number must be the needle's (as niah-single);
    /// the listing tasks, the fraction of `expected` the answer contains (RULER's
    /// `string_match_all`, case-insensitive).
    public func score(answer: String) -> Double {
        if task == .secondTurn { return AnswerScorer.score(answer: answer, expected: expected[0]) }
        return AnswerScorer.fractionContained(answer: answer, expected: expected)
    }
}
