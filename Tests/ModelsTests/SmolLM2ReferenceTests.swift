import Foundation
import GGUF
import Kernels
import KVMemory
import Models
import TestSupport
import Testing

/// Reference numbers of SmolLM2-135M-Instruct computed with HF transformers (see
/// Tests/Fixtures/README.md).
struct SmolLM2Reference: Decodable {
    struct Position: Decodable {
        let pos: Int
        let top10_ids: [Int32]
        let top10_logits: [Float]
        let logsumexp: Float
    }
    struct Prompt: Decodable {
        let text: String
        let input_ids: [Int32]
        let positions: [Position]
        let greedy_continuation_ids: [Int32]
    }
    struct Perplexity: Decodable {
        let n_tokens: Int
        let first_ids: [Int32]
        let mean_nll: Double
        let ppl: Double
    }
    let prompts: [Prompt]
    let perplexity_gpl3: Perplexity

    static let shared: SmolLM2Reference = {
        let url = TestModels.fixture("smollm2/reference_logits.json")
        return try! JSONDecoder().decode(SmolLM2Reference.self, from: Data(contentsOf: url))
    }()

    /// (5, 49152) logits of prompt 0.
    static let prompt0Logits: [Float] = {
        let data = try! Data(contentsOf: TestModels.fixture("smollm2/reference_logits_prompt0.f32"))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }()
}

/// Loaded once per test process: models are large. Models are single-threaded objects, and
/// suites run in parallel: every test that uses one holds `lock` for its whole duration.
enum LoadedModels {
    static let lock = NSLock()

    static func exclusive<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    static let smolLM2File: GGUFFile? = TestModels.path(TestModels.smolLM2).flatMap { try? GGUFFile(path: $0) }
    static let smolLM2Fast: Model? = smolLM2File.flatMap { try? Model(file: $0, threads: ThreadPool(threadCount: 2)) }
    static let smolLM2Reference: ReferenceModel? = smolLM2File.flatMap { try? ReferenceModel(file: $0) }
}

func topIndices(_ logits: ArraySlice<Float>, _ k: Int) -> [Int32] {
    let base = logits.startIndex
    return logits.indices.sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
        .prefix(k).map { Int32($0 - base) }
}

/// Greedy continuation with the fast path (one prefill, then decode steps).
func greedyFast(_ model: Model, prompt: [Int32], count: Int) throws -> [Int32] {
    let pool = try KVBlockPool(layout: model.kvLayout(), budgetBytes: 64 << 20)
    let kv = KVSequence(pool: pool)
    var logits = [Float](repeating: 0, count: model.config.vocabularySize)
    var generated: [Int32] = []
    var next = prompt
    for _ in 0..<count {
        try kv.reserve(appending: next.count)
        logits.withUnsafeMutableBufferPointer { _ = model.forward(.single(next, kv: kv), logits: $0.baseAddress!) }
        let token = topIndices(logits[...], 1)[0]
        generated.append(token)
        next = [token]
    }
    return generated
}

@Suite(.serialized) struct SmolLM2ReferenceTests {
    @Test func referencePathMatchesTransformers() { LoadedModels.exclusive {
        guard let model = LoadedModels.smolLM2Reference else {
            Issue.record(Comment(rawValue: TestModels.missingMessage(TestModels.smolLM2))); return
        }
        let reference = SmolLM2Reference.shared
        let vocabulary = model.config.vocabularySize
        // Prompt 0: every logit within 1e-2.
        model.reset()
        let logits = model.forward(reference.prompts[0].input_ids, allLogits: true)
        let expected = SmolLM2Reference.prompt0Logits
        #expect(logits.count == expected.count)
        let worst = zip(logits, expected).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-2, "largest logit difference \(worst)")
        // Every prompt: identical top-10 ids at every position, identical greedy continuation.
        for prompt in reference.prompts {
            model.reset()
            let all = model.forward(prompt.input_ids, allLogits: true)
            for position in prompt.positions {
                let row = all[position.pos * vocabulary..<(position.pos + 1) * vocabulary]
                #expect(topIndices(row, 10) == position.top10_ids, "prompt \(prompt.text.prefix(20)) position \(position.pos)")
            }
            var generated: [Int32] = []
            var next = Array(all[(prompt.input_ids.count - 1) * vocabulary..<prompt.input_ids.count * vocabulary])
            for _ in 0..<prompt.greedy_continuation_ids.count {
                let token = topIndices(next[...], 1)[0]
                generated.append(token)
                next = model.forward([token])
            }
            #expect(generated == prompt.greedy_continuation_ids, "greedy continuation of \(prompt.text.prefix(20))")
        }
    } }

    @Test func fastPathMatchesTransformersTopTokens() throws { try LoadedModels.exclusive {
        guard let model = LoadedModels.smolLM2Fast else {
            Issue.record(Comment(rawValue: TestModels.missingMessage(TestModels.smolLM2))); return
        }
        let reference = SmolLM2Reference.shared
        for prompt in reference.prompts {
            let generated = try greedyFast(model, prompt: prompt.input_ids, count: prompt.greedy_continuation_ids.count)
            #expect(generated == prompt.greedy_continuation_ids, "greedy continuation of \(prompt.text.prefix(20))")
        }
    } }
}
