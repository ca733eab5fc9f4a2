import Attention
import Engine
import Sampling

/// What one policy answered to one needle sample.
public struct NeedleOutcome: Sendable {
    public var policy: AttentionPolicy
    public var task: EvaluationTask
    public var haystack: Haystack.Kind
    public var context: Int
    public var depth: Double
    public var sampleIndex: Int
    public var promptTokens: Int
    public var expected: String
    public var answer: String
    public var score: Double
    /// Time to first token as the engine reports it (prefill plus the first sampling step).
    public var prefillSeconds: Double
    /// Query-key pairs attention computed, and what dense attention would have (engine usage).
    public var attentionPairsComputed: Int
    public var attentionPairsDense: Int

    public init(policy: AttentionPolicy, task: EvaluationTask, haystack: Haystack.Kind, context: Int, depth: Double,
                sampleIndex: Int, promptTokens: Int, expected: String, answer: String, score: Double, prefillSeconds: Double,
                attentionPairsComputed: Int = 0, attentionPairsDense: Int = 0) {
        self.policy = policy; self.task = task; self.haystack = haystack; self.context = context; self.depth = depth
        self.sampleIndex = sampleIndex; self.promptTokens = promptTokens; self.expected = expected; self.answer = answer
        self.score = score; self.prefillSeconds = prefillSeconds
        self.attentionPairsComputed = attentionPairsComputed; self.attentionPairsDense = attentionPairsDense
    }
}

/// Runs needle samples through the engine exactly as the server does: a `GenerationRequest`
/// with the policy in `attention`, greedy decoding of a short answer. Prefix caching is off, so
/// every sample pays its whole prefill (samples share the template and instruction prefix).
public struct NeedleEvaluator: Sendable {
    public let engine: InferenceEngine
    public let maxAnswerTokens: Int

    public init(engine: InferenceEngine, maxAnswerTokens: Int = 12) {
        self.engine = engine
        self.maxAnswerTokens = maxAnswerTokens
    }

    public func run(_ sample: NeedleSample, policy: AttentionPolicy) throws -> NeedleOutcome {
        var sampling = SamplingParameters()
        sampling.temperature = 0
        var request = GenerationRequest(id: "eval-\(sample.task.rawValue)-\(sample.sampleIndex)", prompt: sample.tokens,
                                        sampling: sampling)
        request.maxTokens = maxAnswerTokens
        request.cachePrompt = false
        request.attention = policy
        let handle: GenerationHandle
        do { handle = try engine.submit(request) } catch { throw EvaluationError.engine(error.description) }
        var answer = ""
        var prefillSeconds = 0.0
        var pairs = (computed: 0, dense: 0)
        events: while true {
            switch handle.next(timeout: 7200) {
            case .event(.text(let text, _, _)):
                answer += text
            case .event(.finished(_, let usage)):
                prefillSeconds = usage.promptMilliseconds / 1000
                pairs = (usage.attentionPairsComputed, usage.attentionPairsDense)
                break events
            case .event(.failed(let error)):
                throw EvaluationError.engine(error.description)
            case .event:
                continue
            case .timeout:
                handle.cancel()
                throw EvaluationError.engine("no answer within two hours for a \(sample.tokens.count)-token prompt")
            case .end:
                break events
            }
        }
        return NeedleOutcome(policy: policy, task: sample.task, haystack: sample.haystack, context: sample.context,
                             depth: sample.depth, sampleIndex: sample.sampleIndex, promptTokens: sample.tokens.count,
                             expected: sample.expectedAnswer, answer: answer,
                             score: AnswerScorer.score(answer: answer, expected: sample.expectedAnswer),
                             prefillSeconds: prefillSeconds, attentionPairsComputed: pairs.computed,
                             attentionPairsDense: pairs.dense)
    }
}
