import Foundation
import GGUF
import Kernels
import Models
import TestSupport
import Testing

/// Reference numbers of Qwen2.5-Coder-0.5B-Instruct computed with HF transformers in fp32
/// (made by scripts/fixtures/make_qwen_reference.py; see Tests/Fixtures/README.md).
struct QwenReference: Decodable {
    struct Position: Decodable {
        let pos: Int
        let top10_ids: [Int32]
        let top10_logits: [Float]
        let logsumexp: Float
    }
    struct Prompt: Decodable {
        let text: String
        /// Set for the chat prompt: `text` is these messages rendered by transformers with the
        /// model's own template and a generation prompt.
        let messages: [[String: String]]?
        let input_ids: [Int32]
        let positions: [Position]
        let greedy_continuation_ids: [Int32]
        /// Best minus second-best logit at each greedy step: how close each step is to a tie.
        let greedy_margins: [Float]
    }
    struct FullLogits: Decodable {
        let file: String
        let shape: [Int]
        let scale: Float
        let max_storage_error: Float
    }
    struct Perplexity: Decodable {
        let sha256: String
        let n_tokens: Int
        let first_ids: [Int32]
        let ids: [Int32]
        let mean_nll: Double
        let ppl: Double
        let prefix_mean_nll: [String: Double]
    }
    let prompts: [Prompt]
    let prompt0_logits: FullLogits
    let perplexity_gpl3: Perplexity

    static let shared: QwenReference = {
        let url = TestModels.fixture("qwen2.5/reference_logits.json")
        return try! JSONDecoder().decode(QwenReference.self, from: Data(contentsOf: url))
    }()

    /// (positions, vocabulary) logits of prompt 0, decoded from int16 fixed point.
    static let prompt0Logits: [Float] = {
        let info = shared.prompt0_logits
        let data = try! Data(contentsOf: TestModels.fixture("qwen2.5/" + info.file))
        precondition(data.count == info.shape.reduce(1, *) * 2, "\(info.file) does not hold \(info.shape) int16 values")
        return data.withUnsafeBytes { raw in
            raw.bindMemory(to: Int16.self).map { Float(Int16(littleEndian: $0)) * info.scale }
        }
    }()
}

/// Qwen2.5-Coder-0.5B, loaded once per test process under `LoadedModels.lock` (the lock every
/// model test holds, so Qwen and SmolLM2 never run at once). nil when the model is not pulled;
/// a load error is kept to be reported. The fp32 reference holds every weight dequantized: ~2 GB.
extension LoadedModels {
    static let qwenFile: Result<GGUFFile, any Error>? = TestModels.path(TestModels.qwen25Coder).map { path in
        Result { try GGUFFile(path: path) }
    }
    static let qwenFast: Result<Model, any Error>? = qwenFile.map { file in
        file.flatMap { file in Result { try Model(file: file, threads: ThreadPool(threadCount: 2)) } }
    }
    static let qwenReference: Result<ReferenceModel, any Error>? = qwenFile.map { file in
        file.flatMap { file in Result { try ReferenceModel(file: file) } }
    }

    /// The loaded value, or nil after recording why there is none (the model is not pulled:
    /// `TestModels.missingMessage`; it failed to load: the error).
    static func qwen<T>(_ loaded: Result<T, any Error>?, sourceLocation: SourceLocation = #_sourceLocation) -> T? {
        switch loaded {
        case nil:
            Issue.record(Comment(rawValue: TestModels.missingMessage(TestModels.qwen25Coder)), sourceLocation: sourceLocation)
            return nil
        case .failure(let error)?:
            Issue.record("loading \(TestModels.qwen25Coder) failed: \(error)", sourceLocation: sourceLocation)
            return nil
        case .success(let value)?:
            return value
        }
    }
}
