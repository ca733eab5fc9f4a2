import Testing
@testable import Tokenization

@Suite struct StreamingDetokenizerTests {
    @Test func unfinishedSuffix() {
        #expect(StreamingDetokenizer.unfinishedSuffixLength([0xF0, 0x9F]) == 2)
    }
}
