import Foundation
import GGUF
import TestSupport
import Testing
@testable import Tokenization

/// Loading the real vocabularies and the reference vectors the tokenizer tests compare against.
enum TokenizerFixtures {
    /// One reference tokenization: `text` encodes to `ids` (no BOS/EOS, special tokens parsed).
    struct Vector: Sendable, CustomTestStringConvertible {
        var text: String
        var ids: [Int32]
        var testDescription: String { text.debugDescription }
    }

    /// `Tests/Fixtures/tokenizer/tokenizer_vectors.json` (a copy of `../shared/models/tokenizer_vectors.json`):
    /// ids from HF transformers' tokenizer built from each GGUF vocabulary, checked against
    /// llama.cpp's own test vectors. Where the file records a known mismatch with llama.cpp, the
    /// llama.cpp ids are expected (the file says to prefer them).
    static func vectors(_ vocabulary: String) throws -> [Vector] {
        let url = TestModels.fixture("tokenizer/tokenizer_vectors.json")
        let root = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let all = try #require(root["vectors"] as? [String: Any])
        let entries = try #require(all[vocabulary] as? [[String: Any]], "no vectors for \(vocabulary)")
        var overrides: [String: [Int32]] = [:]
        for mismatch in root["known_mismatches"] as? [[String: Any]] ?? [] where mismatch["vocab"] as? String == vocabulary {
            let text = try #require(mismatch["text"] as? String)
            overrides[text] = try #require(mismatch["ids_llama_cpp"] as? [Int]).map { Int32($0) }
        }
        return try entries.map { entry in
            let text = try #require(entry["text"] as? String)
            let ids = try #require(entry["ids"] as? [Int]).map { Int32($0) }
            return Vector(text: text, ids: overrides[text] ?? ids)
        }
    }

    /// The SmolLM2 GGUF pulled by the model store; fails the test when it is missing.
    static func smolLM2() throws -> any Tokenizer {
        let path = try #require(TestModels.path(TestModels.smolLM2), Comment(rawValue: TestModels.missingMessage(TestModels.smolLM2)))
        return try cached(path)
    }

    /// The Qwen2.5 vocabulary: the pulled model, else the vocab-only GGUF in `../shared` (development
    /// machines); fails the test when neither exists.
    static func qwen2() throws -> any Tokenizer {
        if let path = TestModels.path(TestModels.qwen25Coder) { return try cached(path) }
        if let shared = TestModels.sharedDirectory {
            let path = shared.appendingPathComponent("models/qwen2-vocab/ggml-vocab-qwen2.5-coder.gguf").path
            if FileManager.default.fileExists(atPath: path) { return try cached(path) }
        }
        Issue.record(Comment(rawValue: TestModels.missingMessage(TestModels.qwen25Coder)))
        throw MissingModel()
    }

    struct MissingModel: Error {}

    /// Tokenizers are immutable: load each file once per test process.
    private static let cache = TokenizerCache()

    private static func cached(_ path: String) throws -> any Tokenizer {
        try cache.tokenizer(path: path)
    }
}

private final class TokenizerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var tokenizers: [String: any Tokenizer] = [:]

    func tokenizer(path: String) throws -> any Tokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let tokenizer = tokenizers[path] { return tokenizer }
        let tokenizer = try makeTokenizer(from: GGUFFile(path: path))
        tokenizers[path] = tokenizer
        return tokenizer
    }
}
