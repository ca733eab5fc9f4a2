import Foundation
import GGUF
import TestSupport
import Testing
import Tokenization

/// SentencePiece BPE on small vocabularies built by the tests, and on stories260K where
/// `../shared` exists.
@Suite struct SentencePieceTokenizerTests {
    /// Scores chosen so that "bc" merges before "▁a" and "ab".
    static let pieces: [(String, Float)] = [
        ("▁", -10), ("a", -1), ("b", -2), ("c", -3), ("▁a", -4), ("ab", -5), ("bc", -0.5), ("▁ab", -6), ("▁▁", -8),
    ]

    @Test func highestScoringPairMergesFirst() throws {
        let vocabulary = SyntheticVocabulary.sentencePiece(pieces: Self.pieces)
        let tokenizer = try vocabulary.tokenizer()
        // ▁ a b c: "bc" (-0.5) beats "▁a" (-4) and "ab" (-5); then "▁a"; "▁abc" is no token.
        #expect(tokenizer.encode("abc", addSpecial: false, parseSpecial: false) == [vocabulary.id("▁a"), vocabulary.id("bc")])
        // ▁ a b: "▁a" beats "ab", then "▁a"+"b" forms "▁ab".
        #expect(tokenizer.encode("ab", addSpecial: false, parseSpecial: false) == [vocabulary.id("▁ab")])
    }

    @Test func spacesBecomeEscapedAndTheFirstFragmentGetsAPrefix() throws {
        let vocabulary = SyntheticVocabulary.sentencePiece(pieces: Self.pieces)
        let tokenizer = try vocabulary.tokenizer()
        #expect(tokenizer.addsSpacePrefix)
        // "a  b" → "▁a▁▁b": ▁a, ▁▁, b.
        let ids = tokenizer.encode("a  b", addSpecial: false, parseSpecial: false)
        #expect(ids == [vocabulary.id("▁a"), vocabulary.id("▁▁"), vocabulary.id("b")])
        #expect(tokenizer.decode(ids) == " a  b")
        #expect(tokenizer.decode(ids, startOfText: true) == "a  b")

        var noPrefix = vocabulary
        noPrefix.extra = [("tokenizer.ggml.add_space_prefix", .bool(false))]
        let plain = try noPrefix.tokenizer()
        #expect(!plain.addsSpacePrefix)
        #expect(plain.encode("ab", addSpecial: false, parseSpecial: false) == [vocabulary.id("ab")])
        #expect(plain.decode([vocabulary.id("▁a")], startOfText: true) == " a")
    }

    @Test func unknownCharactersFallBackToBytes() throws {
        let vocabulary = SyntheticVocabulary.sentencePiece(pieces: Self.pieces)
        let tokenizer = try vocabulary.tokenizer()
        // é is C3 A9; <0xNN> has id 3 + NN.
        let ids = tokenizer.encode("é", addSpecial: false, parseSpecial: false)
        let expected: [Int32] = [vocabulary.id("▁"), 3 + 0xC3, 3 + 0xA9]
        #expect(ids == expected)
        #expect(tokenizer.decode(ids, startOfText: true) == "é")
        let emoji = tokenizer.encode("a🦙", addSpecial: false, parseSpecial: false)
        let expectedEmoji: [Int32] = [vocabulary.id("▁a"), 3 + 0xF0, 3 + 0x9F, 3 + 0xA6, 3 + 0x99]
        #expect(emoji == expectedEmoji)
        #expect(tokenizer.decode(emoji, startOfText: true) == "a🦙")
    }

    @Test func withoutByteTokensUnknownCharactersBecomeUnk() throws {
        let vocabulary = SyntheticVocabulary.sentencePiece(pieces: Self.pieces, byteFallback: false)
        let tokenizer = try vocabulary.tokenizer()
        #expect(tokenizer.specialTokens.unknown == 0)
        #expect(tokenizer.encode("aé漢b", addSpecial: false, parseSpecial: false)
                == [vocabulary.id("▁a"), 0, 0, vocabulary.id("b")])
        #expect(tokenizer.decode([0]) == "<unk>" && tokenizer.decode([0], skipSpecial: true) == "")
    }

    @Test func specialTokensSplitTheTextAndRestartThePrefix() throws {
        let vocabulary = SyntheticVocabulary.sentencePiece(pieces: Self.pieces)
        let tokenizer = try vocabulary.tokenizer()
        // After a special token, the next fragment gets a space prefix again (llama.cpp).
        #expect(tokenizer.encode("ab</s>ab", addSpecial: false, parseSpecial: true)
                == [vocabulary.id("▁ab"), 2, vocabulary.id("▁ab")])
        let unparsed = tokenizer.encode("ab</s>", addSpecial: false, parseSpecial: false)
        #expect(!unparsed.contains(2))
        #expect(tokenizer.decode(unparsed, startOfText: true) == "ab</s>")
    }

    @Test func beginningOfSequenceIsAddedWithoutAKey() throws {
        var vocabulary = SyntheticVocabulary.sentencePiece(pieces: Self.pieces)
        let tokenizer = try vocabulary.tokenizer()
        #expect(tokenizer.specialTokens.addBOS && !tokenizer.specialTokens.addEOS)
        #expect(tokenizer.specialTokens.bos == 1 && tokenizer.specialTokens.eos == 2)
        #expect(tokenizer.encode("", addSpecial: true, parseSpecial: false) == [1])
        #expect(tokenizer.encode("ab", addSpecial: true, parseSpecial: false) == [1, vocabulary.id("▁ab")])
        #expect(tokenizer.decode([1, vocabulary.id("▁ab")], startOfText: true) == "<s> ab")
        #expect(tokenizer.decode([1, vocabulary.id("▁ab")], skipSpecial: true, startOfText: true) == "ab")
        vocabulary.extra = [("tokenizer.ggml.add_bos_token", .bool(false))]
        #expect(try vocabulary.tokenizer().encode("ab", addSpecial: true, parseSpecial: false) == [vocabulary.id("▁ab")])
    }

    @Test func controlTokensNeverComeOutOfPlainText() throws {
        // "<s>" could be built from pieces, but control tokens are not merge results.
        let vocabulary = SyntheticVocabulary.sentencePiece(pieces: Self.pieces + [("<", -1), ("s", -1), (">", -1), ("<s", -1)])
        let tokenizer = try vocabulary.tokenizer()
        #expect(tokenizer.encode("<s>", addSpecial: false, parseSpecial: false)
                == [vocabulary.id("▁"), vocabulary.id("<s"), vocabulary.id(">")])
    }

    // MARK: - stories260K (extra oracle where ../shared exists)

    static var stories260K: URL? {
        TestModels.sharedDirectory?.appendingPathComponent("models/stories260K")
    }

    @Test(.enabled(if: stories260K != nil, "../shared/models/stories260K is only on development machines"))
    func stories260KMatchesTransformers() throws {
        let directory = try #require(Self.stories260K)
        let tokenizer = try makeTokenizer(from: GGUFFile(path: directory.appendingPathComponent("stories260K-f32.v3.gguf").path))
        let reference = try #require(JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("reference_logits.json"))) as? [String: Any])
        let examples = try #require(reference["tokenize_examples"] as? [String: [Int]])
        #expect(examples.count == 2)
        for (text, ids) in examples {
            let encoded = tokenizer.encode(text, addSpecial: true, parseSpecial: false)
            #expect(encoded == ids.map { Int32($0) }, "\(text)")
            #expect(tokenizer.decode(encoded, skipSpecial: true, startOfText: true) == text)
        }
        let story = try #require(reference["greedy_text"] as? String)
        let ids = tokenizer.encode(story, addSpecial: true, parseSpecial: false)
        #expect(tokenizer.decode(ids, skipSpecial: true, startOfText: true) == story)
        #expect(tokenizer.specialTokens.endOfGeneration == [2])
    }
}
