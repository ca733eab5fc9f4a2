import Engine
import Evaluation
import Foundation
import GGUF
import KVMemory
import Kernels
import Models
import Sampling
import Testing
import TestSupport
import Tokenization

/// The lockstep decoder of the KV compression evaluation on SmolLM2-135M: its uncompressed run
/// is the engine's greedy decode, a budget above the cache changes nothing, and a whole (small)
/// evaluation runs every task.
@Suite(.serialized) struct CompressedDecoderTests {
    func modelPath() throws -> String { try smolLM2Path() }

    func prompt(_ tokenizer: any Tokenizer, tokens count: Int) -> [Int32] {
        Array(tokenizer.encode(syntheticProse(sentences: 300), addSpecial: false, parseSpecial: false).prefix(count))
    }

    @Test func uncompressedRunIsTheEnginesGreedyDecode() throws {
        let path = try modelPath()
        let engine = try InferenceEngine(configuration: EngineConfiguration(modelPath: path))
        defer { engine.shutdown() }
        let tokens = prompt(engine.tokenizer, tokens: 400)
        var sampling = SamplingParameters()
        sampling.temperature = 0
        var request = GenerationRequest(id: "greedy", prompt: tokens, sampling: sampling)
        request.maxTokens = 24
        request.ignoreEOS = true
        let handle = try engine.submit(request)
        var engineTokens: [Int32] = []
        events: for _ in 0..<100 {
            switch handle.next(timeout: 120) {
            case .event(.text(_, let ids, _)): engineTokens += ids
            case .event(.finished), .end, .timeout: break events
            case .event(.failed(let error)): Issue.record("engine failed: \(error)"); break events
            case .event: continue
            }
        }
        #expect(engineTokens.count == 24)

        let decoder = CompressedDecoder(model: try Model(file: try GGUFFile(path: path), threads: ThreadPool(threadCount: 2)))
        let prefilled = try decoder.prefill(tokens, policies: [.none, .init(kind: .entropy)], capacity: 500)
        let runs = try decoder.run(prefilled, policies: [.none], maxNewTokens: 24)
        #expect(runs[0].generated == engineTokens)
        #expect(runs[0].positions == 400 + 23)
        #expect(runs[0].heldBytes == runs[0].uncompressedBytes)
    }

    @Test func aBudgetAboveTheCacheEqualsTheUncompressedCache() throws {
        let file = try GGUFFile(path: try modelPath())
        let tokenizer = try makeTokenizer(from: file)
        let model = try Model(file: file, threads: ThreadPool(threadCount: 2))
        let tokens = prompt(tokenizer, tokens: 400)
        let continuation = Array(tokenizer.encode(syntheticProse(sentences: 40), addSpecial: false, parseSpecial: false).prefix(40))
        var policies: [KVCompressionPolicy] = [.none]
        for kind in [KVCompressionPolicy.Kind.entropy, .snapkv, .latent, .streaming] {
            var policy = KVCompressionPolicy(kind: kind)
            policy.budget = 4096
            policies.append(policy)
        }
        let decoder = CompressedDecoder(model: model)
        let prefilled = try decoder.prefill(tokens, policies: policies, capacity: 460)
        let runs = try decoder.run(prefilled, policies: policies, forced: continuation, maxNewTokens: 8, compareTo: 0)
        for run in runs {
            #expect(run.statistics.count == 40)
            #expect(run.statistics.meanKL < 1e-9, "\(run.policy.shortDescription): KL \(run.statistics.meanKL)")
            #expect(run.statistics.topAgreement == 1)
            #expect(run.generated == runs[0].generated, "\(run.policy.shortDescription)")
        }
    }

    @Test func aSmallEvaluationScoresEveryTaskAgainstTheUncompressedCache() throws {
        let corpus = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: corpus) }
        try syntheticProse(sentences: 400).write(toFile: corpus + "/text", atomically: true, encoding: .utf8)
        let policies = try ["entropy:96", "snapkv:96"].map { try KVCompressionPolicy.parse($0) }
        let plan = CompressionPlan(modelPath: try modelPath(), threadCount: 2, policies: policies, contexts: [640],
                                   tasks: [.multiValue, .secondTurn, .decodeKL], haystacks: [.noise], depths: [0.5],
                                   continuationTokens: 32, corpusDirectory: corpus)
        let report = try CompressionEvaluationRunner(plan: plan).run()
        let rows = report.rows
        #expect(rows.count == 3 * 3)
        for row in rows {
            #expect(row.outcomes.count == 1)
            if row.policy.isNone {
                #expect(row.heldFraction == 1)
                #expect(!row.outcomes[0].compressedDuringAnswer)
            } else {
                // entropy: 96 entries per KV head of a ~600-token cache (snapkv keeps them per
                // query head, 3 per KV head here, as released: on a cache this short that can
                // exceed the uncompressed bytes).
                if row.policy.kind == .entropy {
                    #expect(row.heldFraction < 0.4, "\(row.task): \(row.heldFraction)")
                }
                #expect(row.outcomes[0].compressions >= 1)
            }
            if row.task == .decodeKL {
                let statistics = try #require(row.statistics)
                #expect(statistics.count == 32)
                #expect(row.policy.isNone ? statistics.meanKL == 0 : statistics.meanKL > 0)
            } else {
                let score = try #require(row.meanScore)
                #expect((0...1).contains(score))
            }
            if row.task == .multiValue {
                // The four numbers are found in the prompt; the uncompressed cache holds them in
                // every stream, a compressed one at most all of them.
                let outcome = row.outcomes[0]
                #expect(outcome.needleTokens >= 4)
                #expect(outcome.needleTokensHeld.count == 30 && outcome.needleTokensHeld.allSatisfy { $0.count == 3 })
                let held = outcome.needleTokensHeld.joined()
                #expect(row.policy.isNone ? held.allSatisfy { $0 == outcome.needleTokens } : held.allSatisfy { $0 <= outcome.needleTokens })
                if row.policy.isNone { #expect(outcome.needleStreams == (90, 0, "0–29")) }
            }
            if row.task == .secondTurn && !row.policy.isNone {
                // snapkv compresses at the end of prefill, before the summary; entropy 16 tokens in.
                #expect(row.outcomes[0].firstCompressionStep == (row.policy.kind == .snapkv ? 0 : 16))
            }
        }
        #expect(report.table().contains("second-turn/noise"))
        #expect(report.table().contains("decode-kl"))
    }

    /// `--export-samples`: one JSON object per needle sample, in run order, holding the
    /// conversation the evaluation prompts with (its chat-templated tokens are the sample's
    /// prompt), the answer prefix, the expected strings and the second turn's question.
    @Test func exportedSamplesAreTheConversationsTheEvaluationRuns() throws {
        let plan = CompressionPlan(modelPath: try modelPath(), threadCount: 1, policies: [try KVCompressionPolicy.parse("entropy:96")],
                                   contexts: [640], tasks: [.multiQuery, .secondTurn], haystacks: [.noise], depths: [0.1, 0.9])
        let exported = try CompressionEvaluationRunner(plan: plan).exportSamples()
        #expect(exported.count == 4)
        let file = try GGUFFile(path: try modelPath())
        let tokenizer = try makeTokenizer(from: file)
        let template = try ChatTemplate(source: try #require(file.value("tokenizer.chat_template")?.stringValue))
        let generator = CompressionTaskGenerator(format: ChatPromptFormat(template: template, tokenizer: tokenizer), seed: 0)
        var index = 0
        for task in [CompressionTask.multiQuery, .secondTurn] {
            for depth in [0.1, 0.9] {
                let sample = try generator.sample(task: task, haystack: .noise, context: 640, depth: depth, index: 0)
                let object = try #require(exported[index].objectValue)
                index += 1
                #expect(object["task"]?.stringValue == task.rawValue && object["depth"]?.doubleValue == depth)
                #expect(object["prompt_tokens"]?.intValue == sample.tokens.count)
                #expect(object["expected"]?.arrayValue?.compactMap(\.stringValue) == sample.expected)
                #expect(object["answer_prefix"]?.stringValue == sample.answerPrefix)
                let messages = try #require(object["messages"]?.arrayValue)
                let turns = messages.map { ChatTurn(ChatTurn.Role(rawValue: $0.objectValue!["role"]!.stringValue!)!,
                                                    $0.objectValue!["content"]!.stringValue!) }
                #expect(turns == sample.turns)
                #expect(try ChatPromptFormat(template: template, tokenizer: tokenizer).tokens(turns: turns, answerPrefix: sample.answerPrefix)
                        == sample.tokens)
                #expect(object["question"]?.stringValue == sample.question)
            }
        }
    }
}
