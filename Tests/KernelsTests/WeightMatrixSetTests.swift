import GGUF
import Kernels
import Testing

/// A fused set gives every matrix exactly the output it gives alone, across families and tasks
/// that span matrix boundaries.
@Suite struct WeightMatrixSetTests {
    @Test func fusedOutputsEqualSeparateOutputs() throws {
        let columns = 512
        let specs: [(GGMLType, Int)] = [(.q5_0, 40), (.q8_0, 16), (.q4_K, 33), (.f16, 7), (.q6_K, 64)]
        let matrices = try specs.enumerated().map { index, spec in
            let bytes = QuantTestData.randomRows(type: spec.0, rowCount: spec.1, columnCount: columns, seed: UInt64(index + 11))
            return try bytes.withUnsafeBytes { try WeightMatrix(type: spec.0, rowCount: spec.1, columnCount: columns, data: $0.baseAddress!) }
        }
        let set = try WeightMatrixSet(matrices)
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threadCount: threads)
            for rows in [1, 7] {
                let input = QuantTestData.randomActivations(count: rows * columns, seed: UInt64(rows))
                let outputs = specs.map { UnsafeMutablePointer<Float>.allocate(capacity: rows * $0.1) }
                defer { outputs.forEach { $0.deallocate() } }
                set.multiply(input: input, rowCount: rows, outputs: outputs, pool: pool, scratch: MatMulScratch())
                for (index, matrix) in matrices.enumerated() {
                    var alone = [Float](repeating: .nan, count: rows * matrix.rowCount)
                    matrix.multiply(input: input, rowCount: rows, output: &alone, pool: pool, scratch: MatMulScratch())
                    let fused = Array(UnsafeBufferPointer(start: outputs[index], count: alone.count))
                    #expect(fused.map(\.bitPattern) == alone.map(\.bitPattern), "\(matrix.type) rows=\(rows) threads=\(threads)")
                }
            }
        }
    }

    @Test func rejectsMismatchedColumns() throws {
        let a = try QuantTestData.randomRows(type: .q8_0, rowCount: 1, columnCount: 64, seed: 1).withUnsafeBytes {
            try WeightMatrix(type: .q8_0, rowCount: 1, columnCount: 64, data: $0.baseAddress!)
        }
        let b = try QuantTestData.randomRows(type: .q8_0, rowCount: 1, columnCount: 96, seed: 2).withUnsafeBytes {
            try WeightMatrix(type: .q8_0, rowCount: 1, columnCount: 96, data: $0.baseAddress!)
        }
        #expect(throws: WeightMatrixError.columnCountMismatch(64, 96)) { try WeightMatrixSet([a, b]) }
        #expect(throws: WeightMatrixError.emptySet) { try WeightMatrixSet([]) }
    }
}
