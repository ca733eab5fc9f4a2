import Foundation
import GGUF
import TestSupport
import Testing
import Tokenization

/// Byte-level BPE on small vocabularies built by the tests. In `SyntheticVocabulary.bytePair`
/// the token of raw byte `b` has id `b`, so unmerged text encodes to its UTF-8 bytes.
@Suite struct BytePairTokenizerTests {
    func bytes(_ text: String) -> [Int32] { text.utf8.map { Int32($0) } }

    @Test func mergesApplyByRank() throws {
        // "t h" before "h e": the → th + e.
        let thFirst = SyntheticVocabulary.bytePair(merges: ["t h", "h e"], mergedTokens: ["th", "he"])
        #expect(try thFirst.tokenizer().encode("the", addSpecial: false, parseSpecial: false) == [thFirst.id("th"), 101])
        // "h e" before "t h": the → t + he.
        let heFirst = SyntheticVocabulary.bytePair(merges: ["h e", "t h"], mergedTokens: ["th", "he"])
        #expect(try heFirst.tokenizer().encode("the", addSpecial: false, parseSpecial: false) == [116, heFirst.id("he")])
    }

    @Test func mergesBuildOnEarlierMerges() throws {
        let vocabulary = SyntheticVocabulary.bytePair(merges: ["Ġ t", "h e", "Ġt he"], mergedTokens: ["Ġt", "he", "Ġthe"])
        let tokenizer = try vocabulary.tokenizer()
        #expect(tokenizer.encode(" the", addSpecial: false, parseSpecial: false) == [vocabulary.id("Ġthe")])
        #expect(tokenizer.encode("the the", addSpecial: false, parseSpecial: false)
                == [116, vocabulary.id("he"), vocabulary.id("Ġthe")])
        #expect(tokenizer.decode([vocabulary.id("Ġthe")]) == " the")
    }

    @Test func equalRanksMergeLeftmostFirst() throws {
        let vocabulary = SyntheticVocabulary.bytePair(merges: ["a a"], mergedTokens: ["aa"])
        let tokenizer = try vocabulary.tokenizer()
        let aa = vocabulary.id("aa")
        #expect(tokenizer.encode("aaa", addSpecial: false, parseSpecial: false) == [aa, 97])
        #expect(tokenizer.encode("aaaa", addSpecial: false, parseSpecial: false) == [aa, aa])
        #expect(tokenizer.encode("aaaaa", addSpecial: false, parseSpecial: false) == [aa, aa, 97])
    }

    @Test func mergeThroughTextThatIsNotAToken() throws {
        // "xy" is only an intermediate: alone it falls back to its bytes.
        let vocabulary = SyntheticVocabulary.bytePair(merges: ["x y", "xy z"], mergedTokens: ["xyz"])
        let tokenizer = try vocabulary.tokenizer()
        #expect(tokenizer.encode("xyz", addSpecial: false, parseSpecial: false) == [vocabulary.id("xyz")])
        #expect(tokenizer.encode("xy", addSpecial: false, parseSpecial: false) == bytes("xy"))
    }

    @Test func llama3WordsThatAreTokensSkipMerging() throws {
        let merges = ["Ġ h"]
        let tokens = ["Ġh", "Ġhello"]
        let llama3 = SyntheticVocabulary.bytePair(pre: "llama-bpe", merges: merges, mergedTokens: tokens)
        #expect(try llama3.tokenizer().encode(" hello", addSpecial: false, parseSpecial: false) == [llama3.id("Ġhello")])
        let gpt2 = SyntheticVocabulary.bytePair(pre: "gpt-2", merges: merges, mergedTokens: tokens)
        #expect(try gpt2.tokenizer().encode(" hello", addSpecial: false, parseSpecial: false)
                == [gpt2.id("Ġh")] + bytes("ello"))
    }

    @Test func specialTokensAreMatchedBeforePreTokenization() throws {
        let vocabulary = SyntheticVocabulary.bytePair(
            merges: [], mergedTokens: [],
            specials: [("<|im_end|>", .control), ("<tool>", .userDefined), ("<|a|>", .control), ("<|a|><|b|>", .control)])
        let tokenizer = try vocabulary.tokenizer()
        let end = vocabulary.id("<|im_end|>")
        #expect(tokenizer.encode("a<|im_end|>b", addSpecial: false, parseSpecial: true) == [97, end, 98])
        // Not parsed: the text is tokenized like any other.
        #expect(tokenizer.encode("a<|im_end|>b", addSpecial: false, parseSpecial: false) == bytes("a<|im_end|>b"))
        // User-defined tokens are always matched whole.
        #expect(tokenizer.encode(" <tool>x", addSpecial: false, parseSpecial: false) == [32, vocabulary.id("<tool>"), 120])
        // The longer special token wins over the one it contains.
        #expect(tokenizer.encode("<|a|><|b|><|a|>", addSpecial: false, parseSpecial: true)
                == [vocabulary.id("<|a|><|b|>"), vocabulary.id("<|a|>")])
        #expect(tokenizer.decode([97, end, 98]) == "a<|im_end|>b")
        #expect(tokenizer.decode([97, end, 98], skipSpecial: true) == "ab")
        #expect(tokenizer.isSpecial(end) && !tokenizer.isSpecial(vocabulary.id("<tool>")) && !tokenizer.isSpecial(97))
    }

    @Test func overlappingSpecialTokensPreferTheLongerOne() throws {
        // llama.cpp takes candidates by decreasing length: "bcd" before "ab".
        let vocabulary = SyntheticVocabulary.bytePair(merges: [], mergedTokens: [],
                                                      specials: [("ab", .control), ("bcd", .control)])
        let tokenizer = try vocabulary.tokenizer()
        #expect(tokenizer.encode("abcd", addSpecial: false, parseSpecial: true) == [97, vocabulary.id("bcd")])
        #expect(tokenizer.encode("abab", addSpecial: false, parseSpecial: true) == [vocabulary.id("ab"), vocabulary.id("ab")])
    }

    @Test func emojiAndCJKRoundTripThroughBytes() throws {
        let vocabulary = SyntheticVocabulary.bytePair(merges: ["ä ¸"], mergedTokens: ["ä¸"])
        let tokenizer = try vocabulary.tokenizer()
        let text = "🦙 漢字 héllo 😶‍🌫️"
        let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        #expect(tokenizer.decode(ids) == text)
        // 丸 (E4 B8 B8) uses the merge of its first two bytes.
        #expect(tokenizer.encode("丸", addSpecial: false, parseSpecial: false) == [vocabulary.id("ä¸"), 0xB8])
        #expect(tokenizer.pieceBytes(vocabulary.id("ä¸")) == [0xE4, 0xB8])
    }

    @Test func whitespaceRunsFollowThePreTokenizer() throws {
        // Merges that join spaces and newlines show where words end.
        let vocabulary = SyntheticVocabulary.bytePair(pre: "qwen2", merges: ["Ġ Ġ", "Ċ Ċ", "Ġ a"],
                                                      mergedTokens: ["ĠĠ", "ĊĊ", "Ġa"])
        let tokenizer = try vocabulary.tokenizer()
        let spaces = vocabulary.id("ĠĠ"), newlines = vocabulary.id("ĊĊ"), spaceA = vocabulary.id("Ġa")
        // `\s+(?!\S)`: the last space of a run goes with the word.
        #expect(tokenizer.encode("   a", addSpecial: false, parseSpecial: false) == [spaces, spaceA])
        // `\s*[\r\n]+`: spaces and newlines up to the last newline form one word.
        #expect(tokenizer.encode("\n\n a", addSpecial: false, parseSpecial: false) == [newlines, spaceA])
        // Trailing whitespace stays one word.
        #expect(tokenizer.encode("a  ", addSpecial: false, parseSpecial: false) == [97, spaces])
        #expect(tokenizer.encode("", addSpecial: false, parseSpecial: false) == [])
    }

    @Test func beginningAndEndOfSequenceFollowTheVocabulary() throws {
        var vocabulary = SyntheticVocabulary.bytePair(merges: [], mergedTokens: [],
                                                      specials: [("<|begin|>", .control), ("<|end_of_text|>", .control)])
        let begin = vocabulary.id("<|begin|>"), end = vocabulary.id("<|end_of_text|>")
        vocabulary.extra = [("tokenizer.ggml.bos_token_id", .uint32(UInt32(begin))),
                            ("tokenizer.ggml.eos_token_id", .uint32(UInt32(end)))]
        // BPE without add_bos_token: no BOS (the GPT-2 default).
        #expect(try vocabulary.tokenizer().encode("a", addSpecial: true, parseSpecial: false) == [97])
        // Llama 3's pre-tokenizer adds BOS by default.
        vocabulary.pre = "llama-bpe"
        #expect(try vocabulary.tokenizer().encode("a", addSpecial: true, parseSpecial: false) == [begin, 97])
        // The keys win.
        vocabulary.extra += [("tokenizer.ggml.add_bos_token", .bool(false)), ("tokenizer.ggml.add_eos_token", .bool(true))]
        let tokenizer = try vocabulary.tokenizer()
        #expect(tokenizer.encode("a", addSpecial: true, parseSpecial: false) == [97, end])
        #expect(tokenizer.encode("a", addSpecial: false, parseSpecial: false) == [97])
        #expect(tokenizer.specialTokens.addEOS && !tokenizer.specialTokens.addBOS)
    }

    @Test func lookupByText() throws {
        let vocabulary = SyntheticVocabulary.bytePair(merges: ["Ġ t"], mergedTokens: ["Ġt"],
                                                      specials: [("<|im_start|>", .control)])
        let tokenizer = try vocabulary.tokenizer()
        #expect(tokenizer.tokenID(forText: "Ġt") == vocabulary.id("Ġt"))
        #expect(tokenizer.tokenID(forText: "<|im_start|>") == vocabulary.id("<|im_start|>"))
        #expect(tokenizer.tokenID(forText: " t") == nil)
        #expect(tokenizer.tokenText(vocabulary.id("Ġt")) == "Ġt")
        #expect(tokenizer.vocabularySize == vocabulary.tokens.count)
        #expect(tokenizer.pieceBytes(-1) == [] && tokenizer.tokenText(Int32(vocabulary.tokens.count)) == "")
    }
}
