import GGUF
import Kernels
import TestSupport
import Testing

/// The matrix kernels on real weight rows of both test models (SmolLM2: Q4_1 and the Q8_0
/// embedding / tied output head; Qwen2.5: Q5_0, Q8_0, Q4_K, Q6_K), every level against the exact
/// reference and the fp32 oracle.
@Suite struct RealWeightsMatMulTests {
    struct Case: CustomStringConvertible, Sendable {
        let model: String
        let tensor: String
        let type: GGMLType
        var description: String { "\(tensor) (\(type))" }
    }

    static let cases = [
        Case(model: TestModels.smolLM2, tensor: "blk.0.attn_q.weight", type: .q4_1),
        Case(model: TestModels.smolLM2, tensor: "blk.3.ffn_down.weight", type: .q4_1),
        Case(model: TestModels.smolLM2, tensor: "token_embd.weight", type: .q8_0),
        Case(model: TestModels.qwen25Coder, tensor: "blk.0.attn_q.weight", type: .q5_0),
        Case(model: TestModels.qwen25Coder, tensor: "blk.0.attn_v.weight", type: .q8_0),
        Case(model: TestModels.qwen25Coder, tensor: "output.weight", type: .q8_0),
        Case(model: TestModels.qwen25Coder, tensor: "blk.11.ffn_down.weight", type: .q4_K),
        Case(model: TestModels.qwen25Coder, tensor: "blk.0.ffn_down.weight", type: .q6_K),
    ]

    @Test(arguments: cases)
    func realRowsMatchTheReferences(testCase: Case) throws {
        guard let path = TestModels.path(testCase.model) else {
            Issue.record(Comment(rawValue: TestModels.missingMessage(testCase.model)))
            return
        }
        let file = try GGUFFile(path: path)
        let info = try file.tensor(testCase.tensor)
        #expect(info.type == testCase.type)
        let columns = info.dimensions[0]
        let outputs = min(info.dimensions[1], 45)          // a partial last group of 16
        let data = file.data(of: info)
        let matrix = try WeightMatrix(type: info.type, rowCount: outputs, columnCount: columns, data: data)
        let pool = ThreadPool(threadCount: 2)
        for rows in [1, 5] {
            let input = QuantTestData.randomActivations(count: rows * columns, seed: UInt64(rows * 1000 + columns))
            var expected = [Float](repeating: 0, count: rows * outputs), oracle = expected
            MatMulReference.exact(type: info.type, weights: data, rowCount: outputs, columnCount: columns, input: input,
                                  inputRowCount: rows, output: &expected)
            MatMulReference.dequantized(type: info.type, weights: data, rowCount: outputs, columnCount: columns, input: input,
                                        inputRowCount: rows, output: &oracle)
            for isa in KernelISA.available {
                var output = [Float](repeating: .nan, count: rows * outputs)
                matrix.multiply(input: input, rowCount: rows, output: &output, pool: pool, scratch: MatMulScratch(), isa: isa)
                let differing = zip(output, expected).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differing == 0, "\(testCase) [\(isa)] rows=\(rows): \(differing) outputs differ from the exact reference")
            }
            var worst: Float = 0
            input.withUnsafeBufferPointer { x in
                for m in 0..<rows {
                    for n in 0..<outputs {
                        let bound = MatMulReference.activationErrorBound(type: info.type, weights: data, columnCount: columns, row: n,
                                                                         input: x.baseAddress! + m * columns)
                        worst = max(worst, abs(expected[m * outputs + n] - oracle[m * outputs + n]) / bound)
                    }
                }
            }
            #expect(worst <= 1, "\(testCase) rows=\(rows): \(worst)× the quantization bound from the fp32 oracle")
            // The quantized result is also close in relative terms (catches a bound that is too loose).
            let scale = oracle.map(abs).max() ?? 1
            let relative = zip(expected, oracle).map { abs($0 - $1) }.max()! / scale
            #expect(relative < 0.05, "\(testCase): largest error \(relative) of the largest output")
        }
    }
}
