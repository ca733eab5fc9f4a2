import Foundation
import GGUF
import TestSupport
import Tokenization

/// Small vocabularies written to a real GGUF file with `GGUFWriter` and read back, so the tests
/// exercise the same loading path as real models.
struct SyntheticVocabulary {
    var model = "gpt2"
    var pre: String? = "gpt-2"
    var tokens: [String] = []
    var types: [Int32] = []
    var scores: [Float]? = nil
    var merges: [String]? = []
    var extra: [(String, GGUFWriter.Value)] = []

    /// A byte-level BPE vocabulary: the 256 byte characters of GPT-2's mapping (ids 0…255), then
    /// `mergedTokens` in order, then `specials` (text, type).
    static func bytePair(pre: String? = "gpt-2", merges: [String], mergedTokens: [String],
                         specials: [(String, TokenType)] = []) -> SyntheticVocabulary {
        var vocabulary = SyntheticVocabulary(pre: pre)
        for byte in 0..<256 { vocabulary.add(gpt2Character(UInt8(byte)), .normal) }
        for token in mergedTokens { vocabulary.add(token, .normal) }
        for (text, type) in specials { vocabulary.add(text, type) }
        vocabulary.merges = merges
        return vocabulary
    }

    /// A SentencePiece vocabulary: `<unk>`, `<s>`, `</s>`, optionally the 256 byte tokens
    /// `<0x00>`…`<0xFF>`, then `pieces` with their scores.
    static func sentencePiece(pieces: [(String, Float)], byteFallback: Bool = true,
                              specials: [(String, TokenType)] = []) -> SyntheticVocabulary {
        var vocabulary = SyntheticVocabulary(model: "llama", pre: nil, scores: [], merges: nil)
        vocabulary.add("<unk>", .unknown, score: 0)
        vocabulary.add("<s>", .control, score: 0)
        vocabulary.add("</s>", .control, score: 0)
        if byteFallback {
            for byte in 0..<256 { vocabulary.add(String(format: "<0x%02X>", byte), .byte, score: 0) }
        }
        for (piece, score) in pieces { vocabulary.add(piece, .normal, score: score) }
        for (text, type) in specials { vocabulary.add(text, type, score: 0) }
        return vocabulary
    }

    mutating func add(_ text: String, _ type: TokenType, score: Float? = nil) {
        tokens.append(text)
        types.append(type.rawValue)
        if let score { scores = (scores ?? []) + [score] }
    }

    func id(_ text: String) -> Int32 {
        Int32(tokens.lastIndex(of: text) ?? { fatalError("no token \(text)") }())
    }

    func writer() -> GGUFWriter {
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        writer.set("tokenizer.ggml.model", .string(model))
        if let pre { writer.set("tokenizer.ggml.pre", .string(pre)) }
        writer.set("tokenizer.ggml.tokens", .strings(tokens))
        writer.set("tokenizer.ggml.token_type", .int32s(types))
        if let scores { writer.set("tokenizer.ggml.scores", .float32s(scores)) }
        if let merges { writer.set("tokenizer.ggml.merges", .strings(merges)) }
        for (key, value) in extra { writer.set(key, value) }
        return writer
    }

    /// Writes the GGUF, loads it back and returns the vocabulary.
    func load() throws -> Vocabulary {
        let path = try writer().write(name: "vocab")
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Vocabulary(file: GGUFFile(path: path))
    }

    func tokenizer() throws -> any Tokenizer { try makeTokenizer(vocabulary: load()) }
}

/// GPT-2's character for a byte (`bytes_to_unicode` in GPT-2's encoder.py), written out
/// independently of the implementation under test.
func gpt2Character(_ byte: UInt8) -> String {
    let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    if printable { return String(Unicode.Scalar(byte)) }
    let rank = (0..<Int(byte)).filter { b in !((0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)) }.count
    return String(Unicode.Scalar(UInt32(256 + rank))!)
}
