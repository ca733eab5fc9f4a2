import Foundation
import GGUF
import TestSupport
import Testing
import Tokenization

@Suite struct VocabularyTests {
    @Test func endOfGenerationCoversIdsAndKnownTexts() throws {
        var vocabulary = SyntheticVocabulary.bytePair(
            pre: "qwen2", merges: [], mergedTokens: [],
            specials: [("<|endoftext|>", .control), ("<|im_start|>", .control), ("<|im_end|>", .userDefined),
                       ("<|fim_pad|>", .control), ("<|repo_name|>", .control), ("<|file_sep|>", .control),
                       ("<|fim_prefix|>", .userDefined), ("</s>", .normal)])
        let endOfText = vocabulary.id("<|endoftext|>"), imEnd = vocabulary.id("<|im_end|>")
        vocabulary.extra = [("tokenizer.ggml.eos_token_id", .uint32(UInt32(endOfText)))]
        let loaded = try vocabulary.load()
        #expect(loaded.eos == endOfText)
        // No eot key: found by text, in llama.cpp's order of preference.
        #expect(loaded.eot == imEnd)
        #expect(loaded.endOfGeneration == [endOfText, imEnd, vocabulary.id("<|fim_pad|>"), vocabulary.id("<|repo_name|>"),
                                           vocabulary.id("<|file_sep|>")])
        // Added tokens found by text become control tokens, as in llama.cpp; ordinary text
        // tokens (Qwen's learned "</s>") keep their role.
        #expect(loaded.types[Int(imEnd)] == .control)
        #expect(loaded.types[Int(vocabulary.id("<|fim_prefix|>"))] == .control)
        #expect(loaded.types[Int(vocabulary.id("</s>"))] == .normal)
        #expect(!loaded.endOfGeneration.contains(vocabulary.id("<|im_start|>")))
        let tokenizer = try makeTokenizer(vocabulary: loaded)
        #expect(tokenizer.isEndOfGeneration(imEnd) && !tokenizer.isEndOfGeneration(vocabulary.id("<|im_start|>")))
    }

    @Test func eotAndEomKeysAreHonoured() throws {
        var vocabulary = SyntheticVocabulary.bytePair(
            pre: "llama-bpe", merges: [], mergedTokens: [],
            specials: [("<|begin_of_text|>", .control), ("<|end_of_text|>", .control), ("<|eot_id|>", .control),
                       ("<|eom_id|>", .control), ("<|custom_stop|>", .control)])
        let custom = vocabulary.id("<|custom_stop|>")
        vocabulary.extra = [("tokenizer.ggml.bos_token_id", .uint32(UInt32(vocabulary.id("<|begin_of_text|>")))),
                            ("tokenizer.ggml.eos_token_id", .uint32(UInt32(vocabulary.id("<|end_of_text|>")))),
                            ("tokenizer.ggml.eot_token_id", .uint32(UInt32(custom)))]
        let loaded = try vocabulary.load()
        #expect(loaded.eot == custom)
        #expect(loaded.eom == vocabulary.id("<|eom_id|>"))
        #expect(loaded.endOfGeneration == [vocabulary.id("<|end_of_text|>"), vocabulary.id("<|eot_id|>"),
                                           vocabulary.id("<|eom_id|>"), custom])
        #expect(loaded.addBOS)
    }

    @Test func outOfRangeSpecialIdsAreIgnored() throws {
        var vocabulary = SyntheticVocabulary.sentencePiece(pieces: [("a", -1)])
        vocabulary.extra = [("tokenizer.ggml.bos_token_id", .uint32(100_000)), ("tokenizer.ggml.padding_token_id", .uint32(7))]
        let loaded = try vocabulary.load()
        #expect(loaded.bos == 1)  // the SentencePiece default
        #expect(loaded.padding == 7)
    }

    @Test func unsupportedModelNamesTheSupportedOnes() throws {
        var vocabulary = SyntheticVocabulary.bytePair(merges: [], mergedTokens: [])
        vocabulary.model = "bert"
        #expect { try vocabulary.load() } throws: { error in
            guard case TokenizerError.unsupportedModel(_, "bert", _) = error else { return false }
            let message = "\(error)"
            return message.contains("tokenizer.ggml.model 'bert' is not supported")
                && message.contains("gpt2 (byte-level BPE)") && message.contains("llama (SentencePiece BPE)")
        }
    }

    @Test func unsupportedPreTokenizerNamesTheSupportedOnes() throws {
        var vocabulary = SyntheticVocabulary.bytePair(merges: [], mergedTokens: [])
        vocabulary.pre = "deepseek-llm"
        #expect { try vocabulary.load() } throws: { error in
            guard case TokenizerError.unsupportedPreTokenizer(_, "deepseek-llm", _) = error else { return false }
            let message = "\(error)"
            return message.contains("tokenizer.ggml.pre 'deepseek-llm' is not supported")
                && ["qwen2", "smollm", "llama-bpe", "gpt-2"].allSatisfy(message.contains)
        }
    }

    @Test func missingOrMistypedKeysAreReported() throws {
        var noMerges = SyntheticVocabulary.bytePair(merges: [], mergedTokens: [])
        noMerges.merges = nil
        #expect { try noMerges.load() } throws: { "\($0)".contains("'tokenizer.ggml.merges' is missing") }

        var noModel = SyntheticVocabulary.bytePair(merges: [], mergedTokens: [])
        noModel.extra = []
        var writer = noModel.writer()
        writer.metadata.removeAll { $0.0 == "tokenizer.ggml.model" }
        let path = try writer.write(name: "no-model")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect { try makeTokenizer(from: GGUFFile(path: path)) } throws: { error in
            guard case TokenizerError.missingVocabulary(_, "tokenizer.ggml.model") = error else { return false }
            return true
        }

        var wrongType = SyntheticVocabulary.bytePair(merges: [], mergedTokens: [])
        wrongType.extra = [("tokenizer.ggml.add_bos_token", .string("yes"))]
        #expect { try wrongType.load() } throws: { error in
            guard case TokenizerError.invalidValue(_, "tokenizer.ggml.add_bos_token", _) = error else { return false }
            return "\(error)".contains("should be a bool but is string")
        }
    }

    @Test func preTokenizerNamesMapAsInLlamaCpp() {
        #expect(PreTokenizer.select(preName: "qwen2")?.preTokenizer == .qwen2)
        #expect(PreTokenizer.select(preName: "smollm")?.preTokenizer == .digitsThenGPT2)
        #expect(PreTokenizer.select(preName: "llama-bpe") == .init(preTokenizer: .llama3, ignoresMerges: true, addsBOSByDefault: true))
        #expect(PreTokenizer.select(preName: "dbrx") == .init(preTokenizer: .llama3, ignoresMerges: false, addsBOSByDefault: false))
        #expect(PreTokenizer.select(preName: "gpt-2")?.preTokenizer == .gpt2)
        #expect(PreTokenizer.select(preName: nil)?.preTokenizer == .legacyDefault)
        #expect(PreTokenizer.select(preName: "unheard-of") == nil)
    }

    @Test func tokenTypesOutsideTheEnumerationAreUndefined() {
        #expect(TokenType(fileValue: 3) == .control)
        #expect(TokenType(fileValue: 42) == .undefined)
        #expect(TokenType(fileValue: -1) == .undefined)
    }
}
