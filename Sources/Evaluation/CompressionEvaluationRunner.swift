import Foundation
import GGUF
import JSON
import KVMemory
import Kernels
import Models
import Tokenization

/// What one compression policy did on one sample.
public struct CompressionOutcome: Sendable {
    public var policy: KVCompressionPolicy
    public var task: CompressionTask
    /// Needle tasks: the haystack and the depth of the first needle; nil for decode-kl.
    public var haystack: Haystack.Kind?
    public var depth: Double?
    public var context: Int
    public var sampleIndex: Int
    public var promptTokens: Int
    public var expected: [String] = []
    public var answer = ""
    /// Needle tasks: 0...1 (fraction of the expected strings, or exact match for second-turn).
    public var score: Double?
    /// decode-kl: the continuation scored against the uncompressed cache.
    public var statistics: NextTokenStatistics?
    public var compressions = 0
    /// Wall time of the longest compaction round, seconds (the pause it adds to one decode step).
    public var longestRoundSeconds = 0.0
    /// Tokens after the prompt when the first compaction ran (0: at the end of prefill); nil if never.
    public var firstCompressionStep: Int?
    /// Tokens after the prompt before the answer (second-turn: before the question, i.e. the
    /// summary; others 0).
    public var answerStartStep = 0
    public var heldBytes = 0
    public var uncompressedBytes = 0
    /// Needle tasks: the prompt positions of the expected strings (`CompressionSample.expectedSpans`),
    /// and per layer and KV head how many of them the cache still held after the answer.
    public var needleTokens = 0
    public var needleTokensHeld: [[Int]] = []

    /// Streams (layer, KV head) that held every needle token, and those that held some; and the
    /// layers of the first kind, as "a–b" or "a" (nil when none).
    public var needleStreams: (whole: Int, partial: Int, layers: String?) {
        guard needleTokens > 0 else { return (0, 0, nil) }
        let flat = needleTokensHeld.enumerated().flatMap { layer, heads in heads.map { (layer, $0) } }
        let whole = flat.filter { $0.1 == needleTokens }.map(\.0)
        let partial = flat.filter { $0.1 > 0 && $0.1 < needleTokens }.count
        guard let first = whole.min(), let last = whole.max() else { return (0, partial, nil) }
        return (whole.count, partial, first == last ? "\(first)" : "\(first)–\(last)")
    }

    /// Whether the cache had been compressed before the last answer token was produced.
    public var compressedDuringAnswer: Bool { firstCompressionStep != nil }
    /// Whether it had been compressed before the answer's first token (second-turn: before the
    /// question turn, after the summary).
    public var compressedBeforeAnswer: Bool { firstCompressionStep.map { $0 <= answerStartStep } ?? false }
}

/// Runs a `CompressionPlan`: every sample's prompt is prefilled once, then `none` and every
/// policy run in lockstep on it (`CompressedDecoder`), greedy, answers scored per task.
public struct CompressionEvaluationRunner {
    public let plan: CompressionPlan
    public let log: (String) -> Void

    public init(plan: CompressionPlan, log: @escaping (String) -> Void = { _ in }) {
        self.plan = plan
        self.log = log
    }

    public func run() throws -> CompressionReport {
        try plan.validate()
        let started = Date()
        let file = try GGUFFile(path: plan.modelPath)
        let tokenizer = try makeTokenizer(from: file)
        let model = try Model(file: file, threads: ThreadPool(threadCount: max(1, plan.threadCount)))
        if let tooLong = plan.contexts.first(where: { $0 > model.config.contextLength }) {
            throw EvaluationError.contextTooLong(requested: tooLong, modelContext: model.config.contextLength)
        }
        let needsText = plan.tasks.contains(.decodeKL) || (plan.tasks.contains(where: \.isNeedle) && plan.haystacks.contains(.text))
        let corpus = try needsText ? LicenseCorpus.load(directory: plan.corpusDirectory) : ""
        let decoder = CompressedDecoder(model: model)
        let policies = plan.runPolicies
        log("plan: \(plan.sampleCountPerContext) prompts per context length (\(plan.contexts.map(String.init).joined(separator: ", ")) tokens), each prefilled once and run under \(policies.map(\.label).joined(separator: ", "))")

        var outcomes: [CompressionOutcome] = []
        let stop = tokenizer.specialTokens.endOfGeneration
        try forEachNeedleSample(file: file, tokenizer: tokenizer, corpus: corpus) { sample, generator in
            let (task, context) = (sample.task, sample.context)
            let begun = Date()
            let prefilled = try decoder.prefill(sample.tokens, policies: policies, capacity: context)
            var forced: [Int32] = []
            var answerStart = 0
            if task == .secondTurn {
                let summary = try decoder.run(prefilled, policies: [.none], maxNewTokens: CompressionTask.summaryTokens,
                                              stop: stop)[0].generated
                (forced, answerStart) = try generator.secondTurnTokens(sample, summary: tokenizer.decode(summary, skipSpecial: true))
            }
            let spans = sample.expectedSpans(tokenizer)
            let needleTokens = Set(spans.joined()).count  // the strings' spans may overlap
            let runs = try decoder.run(prefilled, policies: policies, forced: forced,
                                       maxNewTokens: min(task.answerTokens, context - sample.tokens.count - forced.count),
                                       stop: stop, watched: spans)
            for run in runs {
                let answer = tokenizer.decode(run.generated, skipSpecial: true)
                var outcome = Self.outcome(run, task: task, context: context, promptTokens: sample.tokens.count)
                outcome.haystack = sample.haystack
                outcome.depth = sample.depth
                outcome.sampleIndex = sample.sampleIndex
                outcome.expected = sample.expected
                outcome.answer = answer
                outcome.score = sample.score(answer: answer)
                outcome.answerStartStep = answerStart
                outcome.needleTokens = needleTokens
                outcome.needleTokensHeld = run.watchedHeld
                outcomes.append(outcome)
                let streams = outcome.needleStreams
                let needle = outcome.needleTokens == 0 ? "not found in the prompt"
                    : "whole in \(streams.whole) (layers \(streams.layers ?? "none")), partly in \(streams.partial) of \(run.watchedHeld.joined().count) streams"
                log(String(format: "%@ %@/%@ context %d depth %.0f%% #%d: score %.2f, %d compressions (first at +%@), KV %.1f%%, needle tokens %@ (expected %@, answered %@)",
                           run.policy.label, task.rawValue, sample.haystack.rawValue, context, sample.depth * 100,
                           sample.sampleIndex, outcome.score!, outcome.compressions,
                           outcome.firstCompressionStep.map(String.init) ?? "-",
                           100 * Double(outcome.heldBytes) / Double(max(1, outcome.uncompressedBytes)), needle,
                           sample.expected.joined(separator: ","), answer.debugDescription))
            }
            log(String(format: "  (%d prompt tokens, %.1f s for every policy)", sample.tokens.count,
                       Date().timeIntervalSince(begun)))
        }
        if plan.tasks.contains(.decodeKL) {
            let text = tokenizer.encode(corpus, addSpecial: false, parseSpecial: false)
            let bos: [Int32] = tokenizer.specialTokens.addBOS ? tokenizer.specialTokens.bos.map { [$0] } ?? [] : []
            for context in plan.contexts {
                let promptText = context - plan.continuationTokens - bos.count
                let available = text.count / context
                guard available > 0 else { throw EvaluationError.textTooShort(tokens: text.count, context: context) }
                for window in 0..<min(plan.windows, available) {
                    let start = window * context
                    let prompt = bos + Array(text[start..<start + promptText])
                    let continuation = Array(text[start + promptText..<start + promptText + plan.continuationTokens])
                    let begun = Date()
                    let prefilled = try decoder.prefill(prompt, policies: policies, capacity: context)
                    let runs = try decoder.run(prefilled, policies: policies, forced: continuation, maxNewTokens: 0, compareTo: 0)
                    for run in runs {
                        var outcome = Self.outcome(run, task: .decodeKL, context: context, promptTokens: prompt.count)
                        outcome.sampleIndex = window
                        outcome.statistics = run.statistics
                        outcomes.append(outcome)
                        log(String(format: "%@ decode-kl context %d window %d: NLL %.4f (uncompressed %.4f), KL %.5f, top-1 %.1f%%, %d compressions (longest %.2f s), KV %.1f%%",
                                   run.policy.label, context, window, run.statistics.meanNLL,
                                   run.statistics.denseMeanNLL, run.statistics.meanKL, run.statistics.topAgreement * 100,
                                   outcome.compressions, outcome.longestRoundSeconds, 100 * Double(outcome.heldBytes) / Double(max(1, outcome.uncompressedBytes))))
                    }
                    log(String(format: "  (%d prompt + %d continuation tokens, %.1f s for every policy)", prompt.count,
                               continuation.count, Date().timeIntervalSince(begun)))
                }
            }
        }
        return CompressionReport(modelPath: plan.modelPath, plan: plan, outcomes: outcomes,
                                 elapsedSeconds: Date().timeIntervalSince(started))
    }

    /// The plan's needle samples as JSON objects, in run order, so the same tasks can be replayed
    /// against a server (scripts/replay-second-turn.py): the conversation in OpenAI chat form
    /// (`messages`), the answer prefix the evaluation forces, the expected strings, and for
    /// second-turn the follow-up question. Reads the tokenizer only (prompts are sized in tokens).
    public func exportSamples() throws -> [JSONValue] {
        try plan.validate()
        let file = try GGUFFile(path: plan.modelPath)
        let tokenizer = try makeTokenizer(from: file)
        let corpus = try plan.haystacks.contains(.text) ? LicenseCorpus.load(directory: plan.corpusDirectory) : ""
        var samples: [JSONValue] = []
        try forEachNeedleSample(file: file, tokenizer: tokenizer, corpus: corpus) { sample, _ in
            var object: JSONObject = [
                "task": .string(sample.task.rawValue), "haystack": .string(sample.haystack.rawValue),
                "context": .int(sample.context), "depth": jsonNumber(sample.depth), "sample": .int(sample.sampleIndex),
                "prompt_tokens": .int(sample.tokens.count),
                "messages": .array(sample.turns.map { .object(["role": .string($0.role.rawValue), "content": .string($0.content)]) }),
                "answer_prefix": .string(sample.answerPrefix), "expected": .array(sample.expected.map { .string($0) }),
            ]
            if let question = sample.question { object["question"] = .string(question) }
            if let prefix = sample.questionAnswerPrefix { object["question_answer_prefix"] = .string(prefix) }
            samples.append(.object(object))
        }
        return samples
    }

    /// Builds every needle sample of the plan in run order (context, task, haystack, depth,
    /// index) and hands it to `body` with its generator.
    private func forEachNeedleSample(file: GGUFFile, tokenizer: any Tokenizer, corpus: String,
                                     _ body: (CompressionSample, CompressionTaskGenerator) throws -> Void) throws {
        let needleTasks = plan.tasks.filter(\.isNeedle)
        guard !needleTasks.isEmpty else { return }
        guard let source = file.value("tokenizer.chat_template")?.stringValue, let template = try? ChatTemplate(source: source) else {
            throw EvaluationError.missingChatTemplate(model: plan.modelPath)
        }
        let generator = CompressionTaskGenerator(format: ChatPromptFormat(template: template, tokenizer: tokenizer), seed: plan.seed)
        let haystacks: [Haystack] = plan.haystacks.map { $0 == .noise ? .noise : .realText(corpus) }
        for context in plan.contexts {
            for task in needleTasks {
                for haystack in haystacks {
                    for depth in plan.depths {
                        for index in 0..<plan.samples {
                            try body(try generator.sample(task: task, haystack: haystack, context: context, depth: depth, index: index),
                                     generator)
                        }
                    }
                }
            }
        }
    }

    static func outcome(_ run: CompressedDecoder.Run, task: CompressionTask, context: Int, promptTokens: Int) -> CompressionOutcome {
        var outcome = CompressionOutcome(policy: run.policy, task: task, context: context, sampleIndex: 0, promptTokens: promptTokens)
        outcome.compressions = run.compression.compressions
        outcome.longestRoundSeconds = run.compression.longestRoundSeconds
        outcome.firstCompressionStep = run.compression.firstCompressionAt.map { $0 - promptTokens }
        outcome.heldBytes = run.heldBytes
        outcome.uncompressedBytes = run.uncompressedBytes
        return outcome
    }
}
