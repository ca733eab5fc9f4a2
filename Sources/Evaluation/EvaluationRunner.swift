import Attention
import Engine
import Foundation
import GGUF
import Kernels
import Models
import Tokenization

/// Runs an `EvaluationPlan`: needle tasks through the inference engine (one engine, the same
/// request path as the server), then ppl through `Model.forward` directly. Only one copy of the
/// model is loaded at a time.
public struct EvaluationRunner {
    public let plan: EvaluationPlan
    public let log: (String) -> Void

    public init(plan: EvaluationPlan, log: @escaping (String) -> Void = { _ in }) {
        self.plan = plan
        self.log = log
    }

    public func run() throws -> EvaluationReport {
        try plan.validate()
        let started = Date()
        let needleTasks = plan.tasks.filter(\.isNeedle)
        let needsText = plan.tasks.contains(where: \.isPerplexity) || (!needleTasks.isEmpty && plan.haystacks.contains(.text))
        let corpus = try needsText ? LicenseCorpus.load(directory: plan.corpusDirectory) : ""
        let maxContext = plan.contexts.max()!
        let prefills = plan.prefillsPerContext
        log("plan: per context length (\(plan.contexts.map(String.init).joined(separator: ", ")) tokens): \(prefills.needle) needle prefills + \(prefills.perplexity) ppl prefills")

        var outcomes: [NeedleOutcome] = []
        if !needleTasks.isEmpty {
            outcomes = try runNeedles(tasks: needleTasks, corpus: corpus, maxContext: maxContext)
        }
        var perplexity: [PerplexityEvaluator.PolicyResult] = []
        if plan.tasks.contains(where: \.isPerplexity) {
            perplexity = try runPerplexity(corpus: corpus)
        }
        return EvaluationReport(modelPath: plan.modelPath, plan: plan,
                                rows: EvaluationReport.rows(needles: outcomes, perplexity: perplexity, policies: plan.policies),
                                outcomes: outcomes, elapsedSeconds: Date().timeIntervalSince(started))
    }

    private func runNeedles(tasks: [EvaluationTask], corpus: String, maxContext: Int) throws -> [NeedleOutcome] {
        var configuration = EngineConfiguration(modelPath: plan.modelPath)
        configuration.threadCount = plan.threadCount
        configuration.contextLength = maxContext
        configuration.maxQueuedRequests = 1
        let engine = try InferenceEngine(configuration: configuration)
        defer { engine.shutdown() }
        guard maxContext <= engine.model.contextLength else {
            throw EvaluationError.contextTooLong(requested: maxContext, modelContext: engine.model.contextLength)
        }
        guard let template = engine.chatTemplate else { throw EvaluationError.missingChatTemplate(model: plan.modelPath) }
        let generator = NeedleTaskGenerator(format: ChatPromptFormat(template: template, tokenizer: engine.tokenizer),
                                            seed: plan.seed)
        let evaluator = NeedleEvaluator(engine: engine, maxAnswerTokens: plan.maxAnswerTokens)
        let haystacks: [Haystack] = plan.haystacks.map { $0 == .noise ? .noise : .realText(corpus) }
        var outcomes: [NeedleOutcome] = []
        var done = 0
        for context in plan.contexts {
            for task in tasks {
                for haystack in haystacks {
                    for depth in plan.depths {
                        for index in 0..<plan.samples {
                            // The prompt leaves room for the answer: prompt + answer fit the context.
                            let building = Date()
                            var sample = try generator.sample(task: task, haystack: haystack, context: context - plan.maxAnswerTokens,
                                                              depth: depth, index: index)
                            sample.context = context
                            let buildSeconds = Date().timeIntervalSince(building)
                            done += 1
                            for policy in plan.policies {
                                let outcome = try evaluator.run(sample, policy: policy)
                                outcomes.append(outcome)
                                log(String(format: "[%d/%d] %@ %@/%@ context %d depth %.0f%% #%d: %@ (expected %@, answered %@) prefill %.2f s (%d tokens, prompt built in %.2f s)",
                                           done, plan.needleSampleCount, policy.label, task.rawValue,
                                           haystack.kind.rawValue, context, depth * 100, index,
                                           outcome.score == 1 ? "correct" : "wrong", outcome.expected,
                                           outcome.answer.debugDescription, outcome.prefillSeconds, outcome.promptTokens,
                                           buildSeconds))
                            }
                        }
                    }
                }
            }
        }
        return outcomes
    }

    private func runPerplexity(corpus: String) throws -> [PerplexityEvaluator.PolicyResult] {
        let file = try GGUFFile(path: plan.modelPath)
        let tokenizer = try makeTokenizer(from: file)
        let model = try Model(file: file, threads: ThreadPool(threadCount: max(1, plan.threadCount)))
        if let tooLong = plan.contexts.first(where: { $0 > model.config.contextLength }) {
            throw EvaluationError.contextTooLong(requested: tooLong, modelContext: model.config.contextLength)
        }
        let text = tokenizer.encode(corpus, addSpecial: false, parseSpecial: false)
        let bos = tokenizer.specialTokens.addBOS ? tokenizer.specialTokens.bos : nil
        log("ppl: the license text is \(text.count) tokens")
        let evaluator = PerplexityEvaluator(model: model, scoredPositionsPerWindow: plan.scoredPositions)
        var results: [PerplexityEvaluator.PolicyResult] = []
        for context in plan.contexts {
            results += try evaluator.evaluate(text: text, context: context, windows: plan.windows, policies: plan.policies,
                                              bos: bos, tasks: plan.tasks, log: log)
        }
        return results
    }
}
