import GGUF
import JSON
import Sampling
import Testing
import TestSupport
import Tokenization
@testable import Grammar

/// Masks over a real vocabulary (SmolLM2's 49,152 byte-level BPE tokens): the trie walk agrees
/// with the token-by-token reference along a realistic output, and the tokens of a valid
/// output are always allowed.
@Suite struct ModelVocabularyMaskTests {
    private static func tokenizer() throws -> (any Tokenizer)? {
        guard let path = TestModels.path(TestModels.smolLM2) else {
            Issue.record(Comment(rawValue: TestModels.missingMessage(TestModels.smolLM2)))
            return nil
        }
        return try makeTokenizer(from: GGUFFile(path: path))
    }

    private static func trie(_ tokenizer: any Tokenizer) -> TokenTrie {
        TokenTrie(vocabularySize: tokenizer.vocabularySize) { token in
            tokenizer.isSpecial(token) ? nil : tokenizer.pieceBytes(token)
        }
    }

    @Test func trieMaskEqualsReferenceAlongAValidOutput() throws {
        guard let tokenizer = try Self.tokenizer() else { return }
        let schema = try JSONValue.parse(#"""
            {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 120},
             "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3}}, "required": ["name", "age"]}
            """#)
        let output = #"{"name": "Ada Lovelace é", "age": 36, "tags": ["math"]}"#
        let tokens = tokenizer.encode(output, addSpecial: false, parseSpecial: false)
        let endTokens = Array(tokenizer.specialTokens.endOfGeneration)
        let matcher = GrammarMatcher(grammar: try Grammar(jsonSchema: schema), trie: Self.trie(tokenizer), endOfGenerationTokens: endTokens)
        var mask = TokenMask(vocabularySize: tokenizer.vocabularySize)
        for (step, token) in tokens.enumerated() {
            matcher.fillMask(&mask)
            #expect(mask.allows(token), "step \(step): token \(token) '\(tokenizer.tokenText(token))' of a valid output is masked")
            if step % 3 == 0 {
                #expect(mask == matcher.referenceMask(), "step \(step)")
            }
            #expect(matcher.accept(token))
        }
        #expect(matcher.isTerminated)
        matcher.fillMask(&mask)
        #expect(mask.allowedCount == endTokens.count && endTokens.allSatisfy(mask.allows))
    }

    @Test func jsonModeMasksStructureTightly() throws {
        guard let tokenizer = try Self.tokenizer() else { return }
        let matcher = GrammarMatcher(grammar: Grammar.anyJSONObject, trie: Self.trie(tokenizer), endOfGenerationTokens: [])
        var mask = TokenMask(vocabularySize: tokenizer.vocabularySize)
        matcher.fillMask(&mask)
        // First token: "{" alone or followed by what may come next ("{\"", "{\n", "{}" ...).
        for token in 0..<Int32(tokenizer.vocabularySize) where mask.allows(token) {
            #expect(tokenizer.pieceBytes(token).first == UInt8(ascii: "{"), "\(tokenizer.tokenText(token))")
        }
        #expect(mask == matcher.referenceMask())
        // Inside a string almost everything is allowed, and the mask is cached on the way.
        #expect(matcher.accept(bytes: Array(#"{"k": "v"#.utf8)))
        matcher.fillMask(&mask)
        #expect(mask.allowedCount > tokenizer.vocabularySize / 2)
        #expect(mask == matcher.referenceMask())
    }
}
