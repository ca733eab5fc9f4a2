import Foundation
import Testing
import Tokenization

@Suite struct StreamingDetokenizerTests {
    @Test func unfinishedSuffixLengths() {
        let cases: [([UInt8], Int)] = [
            ([], 0), ([0x41], 0), ([0xC3], 1), ([0x41, 0xC3], 1), ([0xC3, 0xA9], 0),
            ([0xE2, 0x96], 2), ([0xE2, 0x96, 0x81], 0), ([0xF0, 0x9F, 0xA6], 3), ([0xF0, 0x9F, 0xA6, 0x99], 0),
            // Leads whose second byte is out of range, stray continuations, bytes that never lead.
            ([0xE0, 0x80], 0), ([0xED, 0xA0], 0), ([0xF0, 0x80], 0), ([0xF4, 0x90], 0), ([0xF5], 0), ([0xC0], 0),
            ([0x80], 0), ([0x80, 0x80, 0x80, 0x80], 0), ([0xE0, 0xA0], 2), ([0xF4, 0x8F, 0xBF], 3),
        ]
        for (bytes, expected) in cases {
            #expect(StreamingDetokenizer.unfinishedSuffixLength(bytes) == expected, "\(bytes)")
        }
    }

    /// Byte-level vocabulary where token `b` is raw byte `b`.
    func byteTokenizer() throws -> any Tokenizer {
        try SyntheticVocabulary.bytePair(merges: [], mergedTokens: [], specials: [("<|im_end|>", .control)]).tokenizer()
    }

    @Test func holdsBackSplitCharactersUntilTheyComplete() throws {
        let tokenizer = try byteTokenizer()
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        let text = "a🦙é漢"
        let outputs = text.utf8.map { detokenizer.append(Int32($0)) }
        #expect(outputs == ["a", "", "", "", "🦙", "", "é", "", "", "漢"])
        #expect(detokenizer.finish() == "")
    }

    @Test func invalidSequencesBecomeReplacementCharacters() throws {
        let tokenizer = try byteTokenizer()
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        // A 4-byte lead followed by ASCII: the lead can never complete.
        #expect(detokenizer.append(0xF0) == "")
        #expect(detokenizer.append(0x41) == "\u{FFFD}A")
        // A stray continuation byte is replaced at once.
        #expect(detokenizer.append(0x80) == "\u{FFFD}")
        // An unfinished tail is flushed by finish().
        #expect(detokenizer.append(0xE6) == "")
        #expect(detokenizer.pendingBytes == [0xE6])
        #expect(detokenizer.finish() == "\u{FFFD}")
        #expect(detokenizer.pendingBytes.isEmpty)
    }

    @Test func skipsSpecialTokensOnRequest() throws {
        let tokenizer = try byteTokenizer()
        let end = try #require(tokenizer.tokenID(forText: "<|im_end|>"))
        var shown = StreamingDetokenizer(tokenizer: tokenizer)
        var hidden = StreamingDetokenizer(tokenizer: tokenizer, skipSpecial: true)
        #expect(shown.append(end) == "<|im_end|>")
        #expect(hidden.append(end) == "")
    }

    @Test func dropsTheSentencePiecePrefixOnlyAtTheStartOfText() throws {
        let vocabulary = SyntheticVocabulary.sentencePiece(pieces: [("▁", -1), ("▁a", -1), ("b", -1)])
        let tokenizer = try vocabulary.tokenizer()
        let ids = [vocabulary.id("▁a"), vocabulary.id("▁a"), vocabulary.id("b")]
        var start = StreamingDetokenizer(tokenizer: tokenizer, startOfText: true)
        #expect(ids.map { start.append($0) } == ["a", " a", "b"])
        var continuation = StreamingDetokenizer(tokenizer: tokenizer)
        #expect(ids.map { continuation.append($0) } == [" a", " a", "b"])
        // Byte-fallback pieces of one character arrive one byte at a time.
        var bytes = StreamingDetokenizer(tokenizer: tokenizer)
        let llama = "🦙".utf8.map { bytes.append(3 + Int32($0)) }
        #expect(llama == ["", "", "", "🦙"])
    }
}
