import Foundation
import TestSupport
import Testing
import Tokenization

/// The hand-written pre-tokenizer scanners against the regexes they implement, evaluated by the
/// Python `regex` module on random multilingual texts (`Tests/Fixtures/tokenizer/pretokenizer_splits.json`,
/// made by `scripts/fixtures/make_tokenizer_fixtures.py`).
@Suite struct PreTokenizerTests {
    struct Splits: Decodable {
        var texts: [String]
        var words: [String: [[String]]]
    }

    static func splits() throws -> Splits {
        try JSONDecoder().decode(Splits.self, from: Data(contentsOf: TestModels.fixture("tokenizer/pretokenizer_splits.json")))
    }

    @Test(arguments: [(PreTokenizer.gpt2, "gpt2"), (.llama3, "llama3"), (.qwen2, "qwen2"), (.qwen35, "qwen35"),
                      (.digitsThenGPT2, "smollm")])
    func matchesTheRegex(_ preTokenizer: PreTokenizer, _ name: String) throws {
        let splits = try Self.splits()
        let expected = try #require(splits.words[name])
        #expect(splits.texts.count == 300 && expected.count == 300)
        var mismatches = 0
        for (text, words) in zip(splits.texts, expected) where preTokenizer.words(text) != words {
            mismatches += 1
            if mismatches <= 5 { Issue.record("\(name): \(text.debugDescription) → \(preTokenizer.words(text)), expected \(words)") }
        }
        #expect(mismatches == 0)
    }

    @Test func handPickedSplits() {
        #expect(PreTokenizer.gpt2.words("I'm here  now\n\n") == ["I", "'m", " here", " ", " now", "\n\n"])
        #expect(PreTokenizer.qwen2.words("I'M 2024!\n\nx") == ["I", "'M", " ", "2", "0", "2", "4", "!\n\n", "x"])
        #expect(PreTokenizer.llama3.words("12345 (a)") == ["123", "45", " (", "a", ")"])
        #expect(PreTokenizer.digitsThenGPT2.words("ied 4 ½ months") == ["ied", " ", "4", " ", "½", " months"])
        #expect(PreTokenizer.qwen35.words("नमस्ते") == ["नमस्ते"])
        #expect(PreTokenizer.qwen2.words("नमस्ते") == ["नमस", "्त", "े"])
        #expect(PreTokenizer.legacyDefault.words("a+=123456b") == ["a", "+=", "123", "456", "b"])
        #expect(PreTokenizer.gpt2.words("") == [])
    }
}
