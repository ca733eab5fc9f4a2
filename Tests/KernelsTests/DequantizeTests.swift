import Foundation
import GGUF
import Kernels
import TestSupport
import Testing

/// `Dequantize.row` against gguf-py's `gguf.quants.dequantize` on the blocks of
/// Tests/Fixtures/quant (scripts/fixtures/make_quant_fixtures.py: random data quantized by gguf-py,
/// random block bytes, and real blocks of SmolLM2 and Qwen2.5).
@Suite struct DequantizeTests {
    static let types: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]

    @Test(arguments: types)
    func matchesGGUFPy(type: GGMLType) throws {
        let directory = TestModels.fixture("quant")
        let blocks = try Data(contentsOf: directory.appendingPathComponent("\(type.name.lowercased()).blocks"))
        let expectedBytes = try Data(contentsOf: directory.appendingPathComponent("\(type.name.lowercased()).f32"))
        let expected = expectedBytes.withUnsafeBytes { raw in (0..<raw.count / 4).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
        #expect(blocks.count == type.byteCount(elements: expected.count))
        #expect(expected.count >= 64)
        var actual = [Float](repeating: .nan, count: expected.count)
        blocks.withUnsafeBytes { raw in
            Dequantize.row(type, from: raw.baseAddress!, into: &actual, count: expected.count)
        }
        let mismatches = actual.indices.filter { actual[$0].bitPattern != expected[$0].bitPattern }
        #expect(mismatches.isEmpty, "\(type): \(mismatches.count) of \(expected.count) values differ, first at \(mismatches.first ?? -1): \(mismatches.first.map { "\(actual[$0]) vs \(expected[$0])" } ?? "")")
    }

    /// Dequantizing a row in pieces (as embedding lookups of partial rows would) gives the same values.
    @Test func blocksAreIndependent() throws {
        let type = GGMLType.q6_K
        let bytes = QuantTestData.randomRows(type: type, rowCount: 1, columnCount: 768, seed: 3)
        var whole = [Float](repeating: 0, count: 768), parts = whole
        bytes.withUnsafeBytes { raw in
            Dequantize.row(type, from: raw.baseAddress!, into: &whole, count: 768)
            for block in 0..<3 {
                parts.withUnsafeMutableBufferPointer {
                    Dequantize.row(type, from: raw.baseAddress! + block * type.blockBytes, into: $0.baseAddress! + 256 * block, count: 256)
                }
            }
        }
        #expect(whole == parts)
        #expect(whole.contains { $0 != 0 })
    }
}
