import Foundation
import TestSupport
import Testing
import Tokenization

/// Exact ids on every reference vector, for the two real vocabularies.
@Suite struct TokenizerVectorTests {
    @Test(arguments: try TokenizerFixtures.vectors("smollm2"))
    func smolLM2(_ vector: TokenizerFixtures.Vector) throws {
        let tokenizer = try TokenizerFixtures.smolLM2()
        #expect(tokenizer.encode(vector.text, addSpecial: false, parseSpecial: true) == vector.ids)
        #expect(tokenizer.decode(vector.ids) == vector.text)
    }

    @Test(arguments: try TokenizerFixtures.vectors("qwen2"))
    func qwen2(_ vector: TokenizerFixtures.Vector) throws {
        let tokenizer = try TokenizerFixtures.qwen2()
        #expect(tokenizer.encode(vector.text, addSpecial: false, parseSpecial: true) == vector.ids)
        #expect(tokenizer.decode(vector.ids) == vector.text)
    }

    /// Random multilingual texts through transformers' tokenizers built from the same GGUF files
    /// (`hf_vectors.json`, made by `scripts/fixtures/make_tokenizer_fixtures.py`).
    @Test(arguments: ["smollm2", "qwen2"])
    func randomTextsMatchTransformers(_ name: String) throws {
        let tokenizer = try name == "qwen2" ? TokenizerFixtures.qwen2() : TokenizerFixtures.smolLM2()
        let cases = try TokenizerFixtures.hfVectors(name)
        #expect(cases.count == 300)
        var mismatches = 0
        for vector in cases {
            let ids = tokenizer.encode(vector.text, addSpecial: false, parseSpecial: true)
            if ids != vector.ids {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(name): \(vector.text.debugDescription) → \(ids), expected \(vector.ids)") }
            }
            #expect(tokenizer.decode(ids) == vector.text)
        }
        #expect(mismatches == 0)
    }

    /// The whole GPL-3 text (about 7.5K tokens) through transformers' tokenizers.
    @Test(arguments: ["smollm2", "qwen2"])
    func licenseMatchesTransformers(_ name: String) throws {
        let tokenizer = try name == "qwen2" ? TokenizerFixtures.qwen2() : TokenizerFixtures.smolLM2()
        let (text, expected) = try TokenizerFixtures.licenseVector(name)
        let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
        #expect(ids.count == expected.count)
        #expect(ids == expected)
        #expect(tokenizer.decode(ids) == text)
    }

    @Test func vectorFilesAreComplete() throws {
        #expect(try TokenizerFixtures.vectors("smollm2").count == 48)
        #expect(try TokenizerFixtures.vectors("qwen2").count == 48)
    }
}
