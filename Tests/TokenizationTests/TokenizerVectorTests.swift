import Foundation
import TestSupport
import Testing
@testable import Tokenization

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

    @Test func vectorFilesAreComplete() throws {
        #expect(try TokenizerFixtures.vectors("smollm2").count == 48)
        #expect(try TokenizerFixtures.vectors("qwen2").count == 48)
    }
}
