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

    /// The tokens that end generation, as llama.cpp lists them for these vocabularies (EOS, the
    /// EOG texts, and the FIM pad / repository / file-separator tokens), except Qwen's ordinary
    /// "</s>" token 128247 (see `SpecialTokenRoles`).
    @Test func endOfGenerationTokens() throws {
        let qwen = try TokenizerFixtures.qwen2()
        #expect(qwen.specialTokens.endOfGeneration == [151643, 151645, 151662, 151663, 151664])
        #expect(qwen.specialTokens.eos == 151645 && qwen.specialTokens.eot == 151645 && qwen.specialTokens.bos == 151643)
        #expect(!qwen.specialTokens.addBOS && !qwen.specialTokens.addEOS)
        #expect(qwen.tokenID(forText: "<|im_start|>") == 151644 && qwen.isSpecial(151644))
        #expect(qwen.tokenID(forText: "<tool_call>") == 151657 && !qwen.isSpecial(151657))
        #expect(qwen.tokenID(forText: "</s>") == 128247 && !qwen.isSpecial(128247))
        #expect(qwen.encode("</s>", addSpecial: false, parseSpecial: true) == [522, 82, 29])
        let smol = try TokenizerFixtures.smolLM2()
        #expect(smol.specialTokens.endOfGeneration == [0, 2, 4])  // <|endoftext|>, <|im_end|>, <reponame>
        #expect(smol.specialTokens.eos == 2 && smol.specialTokens.eot == 2)
        #expect(!smol.specialTokens.addBOS && !smol.addsSpacePrefix)
    }

    /// Generated tokens stream out as whole characters: the llama emoji's four bytes span three
    /// Qwen tokens (" \u{F0}", "\u{9F}\u{A6}", "\u{99}").
    @Test func streamsSplitCharactersWhole() throws {
        let qwen = try TokenizerFixtures.qwen2()
        var detokenizer = StreamingDetokenizer(tokenizer: qwen)
        let pieces = [419, 374, 11162, 99, 247, 13, 10821].map { detokenizer.append($0) }
        #expect(pieces == [" this", " is", " ", "", "🦙", ".", "cpp"])
        #expect(detokenizer.finish() == "")
        // Cut after the first two bytes of the emoji: the rest is flushed as U+FFFD at the end.
        var cut = StreamingDetokenizer(tokenizer: qwen)
        #expect([11162, 99].map { cut.append($0) } == [" ", ""])
        #expect(cut.finish() == "\u{FFFD}")
    }

    /// One tokenizer shared by many threads gives the same ids as a single thread.
    @Test func encodingIsThreadSafe() async throws {
        let qwen = try TokenizerFixtures.qwen2()
        let texts = try TokenizerFixtures.hfVectors("qwen2").map(\.text)
        let serial = texts.map { qwen.encode($0, addSpecial: false, parseSpecial: true) }
        let parallel = await withTaskGroup(of: (Int, [Int32]).self) { group in
            for (index, text) in texts.enumerated() {
                group.addTask { (index, qwen.encode(text, addSpecial: false, parseSpecial: true)) }
            }
            var results = [[Int32]](repeating: [], count: texts.count)
            for await (index, ids) in group { results[index] = ids }
            return results
        }
        #expect(parallel == serial)
    }

    @Test func vectorFilesAreComplete() throws {
        #expect(try TokenizerFixtures.vectors("smollm2").count == 48)
        #expect(try TokenizerFixtures.vectors("qwen2").count == 48)
    }
}
