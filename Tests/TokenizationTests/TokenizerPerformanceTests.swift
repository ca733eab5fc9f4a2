import Foundation
import GGUF
import TestSupport
import Testing
import Tokenization

/// Load and encoding speed on the real Qwen2.5 vocabulary (151,936 tokens, 151,387 merges).
/// Timings print to stdout; they are meaningful in release builds (`swift test -c release`)
/// and noisy on a shared machine. The assertions check the work itself (token counts and a
/// round trip), plus a floor far below the measured speed that only a pathological slowdown
/// would break.
@Suite(.serialized) struct TokenizerPerformanceTests {
    static let licensePath = "/usr/share/common-licenses/GPL-3"

    @Test func loadsTheQwenVocabulary() throws {
        let path = try #require(TestModels.path(TestModels.qwen25Coder)
                                ?? TestModels.sharedDirectory.map { $0.appendingPathComponent("models/qwen2-vocab/ggml-vocab-qwen2.5-coder.gguf").path },
                                Comment(rawValue: TestModels.missingMessage(TestModels.qwen25Coder)))
        var best = Double.infinity
        var bestParse = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            let file = try GGUFFile(path: path)
            let parsed = DispatchTime.now().uptimeNanoseconds
            let tokenizer = try makeTokenizer(from: file)
            let end = DispatchTime.now().uptimeNanoseconds
            #expect(tokenizer.vocabularySize == 151_936)
            best = min(best, Double(end - start) / 1e9)
            bestParse = min(bestParse, Double(parsed - start) / 1e9)
        }
        print("Qwen vocabulary: GGUF parse \(String(format: "%.3f", bestParse)) s, GGUF parse + tokenizer build \(String(format: "%.3f", best)) s (best of 3)")
        #expect(best < 10)
    }

    @Test func encodesFiftyKilobytesQuickly() throws {
        let tokenizer = try TokenizerFixtures.qwen2()
        let license = try String(contentsOfFile: Self.licensePath, encoding: .utf8)
        let text = license + String(license.prefix(50_000 - license.utf8.count))
        var ids: [Int32] = []
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let rate = Double(ids.count) / best
        print("Qwen encode: \(text.utf8.count) bytes -> \(ids.count) tokens in \(String(format: "%.2f", best * 1000)) ms = \(String(format: "%.0f", rate / 1000))K tokens/s (best of 5)")
        #expect(tokenizer.decode(ids) == text)
        #expect(rate > 20_000)

        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        let start = DispatchTime.now().uptimeNanoseconds
        var streamed = ""
        for id in ids { streamed += stream.append(id) }
        streamed += stream.finish()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("Qwen streaming decode: \(ids.count) tokens in \(String(format: "%.2f", seconds * 1000)) ms")
        #expect(streamed == text)
    }
}
