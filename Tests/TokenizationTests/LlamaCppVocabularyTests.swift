import Foundation
import GGUF
import Testing
import Tokenization

/// An extra oracle for development machines: llama.cpp's own tokenizer test vectors
/// (`models/ggml-vocab-*.gguf` with `.inp` / `.out`, produced by `tests/test-tokenizer-0`, i.e.
/// `add_special = false`, `parse_special = false`). The vocab-only GGUFs are not ours to commit,
/// so this runs only when `ENTROPYINFER_LLAMACPP_MODELS` points at a llama.cpp `models/`
/// directory, and is reported as skipped otherwise.
@Suite(.enabled(if: LlamaCppModels.directory != nil, "set ENTROPYINFER_LLAMACPP_MODELS to llama.cpp's models/"))
struct LlamaCppVocabularyTests {
    /// Vocabularies whose tokenizer model and pre-tokenizer this build supports.
    static let vocabularies = [
        "llama-bpe", "qwen2", "qwen35", "gpt-2", "mpt", "starcoder", "refact", "command-r", "llama-spm", "phi-3",
    ]

    @Test(arguments: vocabularies)
    func matchesLlamaCppVectors(_ name: String) throws {
        let directory = try #require(LlamaCppModels.directory)
        let base = "\(directory)/ggml-vocab-\(name).gguf"
        let tokenizer = try makeTokenizer(from: GGUFFile(path: base))
        let input = try Data(contentsOf: URL(fileURLWithPath: base + ".inp"))
        var texts = String(decoding: input, as: UTF8.self).components(separatedBy: "\n__ggml_vocab_test__\n")
        if texts.last == "" { texts.removeLast() }
        var expected = try String(contentsOfFile: base + ".out", encoding: .utf8).components(separatedBy: "\n")
        if expected.last == "" { expected.removeLast() }
        try #require(texts.count == expected.count)
        for (text, line) in zip(texts, expected) {
            let ids = line.split(separator: " ").compactMap { Int32($0) }
            #expect(tokenizer.encode(text, addSpecial: false, parseSpecial: false) == ids, "\(name): \(text.debugDescription)")
        }
    }
}

enum LlamaCppModels {
    static var directory: String? {
        ProcessInfo.processInfo.environment["ENTROPYINFER_LLAMACPP_MODELS"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
