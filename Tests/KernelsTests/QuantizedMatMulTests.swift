import Foundation
import GGUF
import Kernels
import Testing

/// Every matrix kernel path on this CPU against the exact Swift statement of its arithmetic
/// (`MatMulReference.exact`, bit for bit) and the fp32 oracle (`MatMulReference.dequantized`,
/// within the activation-rounding bound), on random blocks with odd shapes.
@Suite struct QuantizedMatMulTests {
    /// A random problem: GGUF weights of `type`, (rows, K) activations.
    struct Problem {
        let type: GGMLType
        let outputCount: Int      // N
        let columnCount: Int      // K
        let weights: [UInt8]
        let input: [Float]
        let matrix: WeightMatrix
        let precision: ActivationPrecision

        init(_ type: GGMLType, outputs: Int, columns: Int, maxRows: Int, seed: UInt64, precision: ActivationPrecision = .high) throws {
            self.type = type
            self.precision = precision
            outputCount = outputs
            columnCount = columns
            weights = QuantTestData.randomRows(type: type, rowCount: outputs, columnCount: columns, seed: seed)
            input = QuantTestData.randomActivations(count: maxRows * columns, seed: seed ^ 0xABCD)
            matrix = try weights.withUnsafeBytes {
                try WeightMatrix(type: type, rowCount: outputs, columnCount: columns, data: $0.baseAddress!, activationPrecision: precision)
            }
        }

        func run(rows: Int, isa: KernelISA, pool: ThreadPool, inputOffset: Int = 0) -> [Float] {
            var output = [Float](repeating: .nan, count: rows * outputCount)
            input.withUnsafeBufferPointer { x in
                matrix.multiply(input: x.baseAddress! + inputOffset * columnCount, rowCount: rows, output: &output, pool: pool,
                                scratch: MatMulScratch(), isa: isa)
            }
            return output
        }

        func exact(rows: Int) -> [Float] {
            var output = [Float](repeating: .nan, count: rows * outputCount)
            weights.withUnsafeBytes {
                MatMulReference.exact(type: type, weights: $0.baseAddress!, rowCount: outputCount, columnCount: columnCount,
                                      input: input, inputRowCount: rows, output: &output, precision: precision)
            }
            return output
        }

        /// Largest |exact - oracle| / bound over all outputs.
        func worstOracleRatio(_ result: [Float], rows: Int) -> Float {
            var oracle = [Float](repeating: 0, count: rows * outputCount)
            var worst: Float = 0
            weights.withUnsafeBytes { w in
                MatMulReference.dequantized(type: type, weights: w.baseAddress!, rowCount: outputCount, columnCount: columnCount,
                                            input: input, inputRowCount: rows, output: &oracle)
                input.withUnsafeBufferPointer { x in
                    for m in 0..<rows {
                        for n in 0..<outputCount {
                            let bound = MatMulReference.activationErrorBound(type: type, weights: w.baseAddress!, columnCount: columnCount,
                                                                             row: n, input: x.baseAddress! + m * columnCount,
                                                                             precision: precision)
                            worst = max(worst, abs(result[m * outputCount + n] - oracle[m * outputCount + n]) / bound)
                        }
                    }
                }
            }
            return worst
        }
    }

    static func block(_ type: GGMLType) -> Int { MatMulReference.activationBlockSize(for: type) ?? 1 }

    static func bitsDiffer(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count }

    @Test(arguments: WeightMatrix.supportedTypes, ActivationPrecision.allCases)
    func everyLevelMatchesTheExactReference(type: GGMLType, precision: ActivationPrecision) throws {
        let pool = ThreadPool(threadCount: 2)
        let block = Self.block(type)
        // (N, K): one block; N not a multiple of the 16-row group or of any tile; several blocks.
        let shapes = [(1, block), (17, block == 1 ? 3 : block), (33, 3 * max(block, 8)), (16, 2 * max(block, 16))]
        for (index, (outputs, columns)) in shapes.enumerated() {
            let problem = try Problem(type, outputs: outputs, columns: columns, maxRows: 17, seed: UInt64(index + 1) * 7919,
                                      precision: precision)
            for rows in [1, 3, 5, 17] {
                let expected = problem.exact(rows: rows)
                for isa in KernelISA.available {
                    let actual = problem.run(rows: rows, isa: isa, pool: pool)
                    #expect(Self.bitsDiffer(actual, expected) == 0, "\(type) [\(isa)] \(precision) N=\(outputs) K=\(columns) rows=\(rows)")
                }
                let ratio = problem.worstOracleRatio(expected, rows: rows)
                #expect(ratio <= 1, "\(type) N=\(outputs) K=\(columns): \(ratio)× the quantization bound from the fp32 oracle")
            }
        }
    }

    /// A row's output is bit-identical alone, inside any batch, at any offset in the batch and on
    /// any number of threads.
    @Test(arguments: WeightMatrix.supportedTypes, ActivationPrecision.allCases)
    func batchInvariance(type: GGMLType, precision: ActivationPrecision) throws {
        let columns = 2 * Self.block(type) * (Self.block(type) == 1 ? 24 : 1)
        let problem = try Problem(type, outputs: 37, columns: columns, maxRows: 64, seed: 99, precision: precision)
        let pools = [1, 2, 3].map { ThreadPool(threadCount: $0) }
        for isa in KernelISA.available {
            let full = problem.run(rows: 64, isa: isa, pool: pools[1])
            for row in [0, 5, 63] {
                let alone = problem.run(rows: 1, isa: isa, pool: pools[0], inputOffset: row)
                #expect(Array(full[row * 37..<(row + 1) * 37]).map(\.bitPattern) == alone.map(\.bitPattern), "\(type) [\(isa)] row \(row)")
            }
            for rows in 2...8 {
                for pool in pools {
                    let batch = problem.run(rows: rows, isa: isa, pool: pool, inputOffset: 64 - rows)
                    let tail = Array(full[(64 - rows) * 37..<64 * 37])
                    #expect(Self.bitsDiffer(batch, tail) == 0, "\(type) [\(isa)] batch of \(rows) on \(pool.threadCount) threads")
                }
            }
            for pool in pools {
                #expect(Self.bitsDiffer(problem.run(rows: 64, isa: isa, pool: pool), full) == 0, "\(type) [\(isa)] 64 rows on \(pool.threadCount) threads")
            }
        }
    }

    /// The C activation quantizer writes what `MatMulReference.quantize` computes, block sums included.
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K], ActivationPrecision.allCases)
    func activationQuantizationMatchesReference(type: GGMLType, precision: ActivationPrecision) {
        let columns = 2 * Self.block(type)
        var input = QuantTestData.randomActivations(count: 3 * columns, seed: 17)
        for i in 0..<32 { input[columns + i] = 0 }                      // an all-zero block (d = 0)
        input[2 * columns + 3] = 1e-30                                   // a tiny amax
        for isa in KernelISA.available {
            let rows = ActivationQuantization.quantize(type: type, input: input, rowCount: 3, columnCount: columns, isa: isa,
                                                       precision: precision)!
            for row in 0..<3 {
                let reference = input.withUnsafeBufferPointer {
                    MatMulReference.quantize($0.baseAddress! + row * columns, count: columns, blockSize: Self.block(type),
                                             precision: precision)
                }
                #expect(rows[row] == reference, "\(type) [\(isa)] \(precision) row \(row)")
                if precision == .int8 {   // llama.cpp's Q8 rounding: the first term alone, no residuals
                    #expect(rows[row].residuals.allSatisfy { $0 == 0 })
                    let twoTerm = input.withUnsafeBufferPointer {
                        MatMulReference.quantize($0.baseAddress! + row * columns, count: columns, blockSize: Self.block(type))
                    }
                    #expect(rows[row].quants == twoTerm.quants && rows[row].scales == twoTerm.scales)
                }
                let sums = input.withUnsafeBufferPointer {
                    ActivationQuantization.storedSums(type: type, input: $0.baseAddress! + row * columns, columnCount: columns, isa: isa,
                                                      precision: precision)
                }
                #expect(sums == ActivationQuantization.expectedSums(type: type, reference), "\(type) [\(isa)] sums of row \(row)")
            }
        }
    }

    /// `balanced` keeps the residual term exactly on the blocks whose max|x|² reaches the row's mean
    /// (an outlier block here), stores zeros elsewhere, and marks each block's terms byte so; `high`
    /// keeps every block's, `int8` none.
    @Test(arguments: [GGMLType.q5_0, .q4_K])
    func balancedActivationsKeepTheResidualWhereTheEnergyIs(type: GGMLType) {
        let blockSize = Self.block(type), blocks = 8, columns = blocks * blockSize
        var input = (0..<columns).map { Float(sin(Double($0) * 0.7)) }      // |x| ≤ 1: block energy ≤ 1
        input[3 * blockSize + 7] = 40                                          // block 3: energy 1600 ≫ the mean
        input[6 * blockSize + 1] = -25                                         // block 6: 625, above the mean (~280)
        let expected = (0..<blocks).map { $0 == 3 || $0 == 6 ? 2 : 1 }
        for isa in KernelISA.available {
            input.withUnsafeBufferPointer { x in
                let reference = MatMulReference.quantize(x.baseAddress!, count: columns, blockSize: blockSize, precision: .balanced)
                for block in 0..<blocks {
                    let residuals = reference.residuals[block * blockSize..<(block + 1) * blockSize]
                    #expect(residuals.contains { $0 != 0 } == (expected[block] == 2), "\(type) block \(block)")
                }
                let terms = { (precision: ActivationPrecision) in
                    ActivationQuantization.storedTerms(type: type, input: x.baseAddress!, columnCount: columns, isa: isa, precision: precision)
                }
                #expect(terms(.balanced) == expected, "\(type) [\(isa)]")
                #expect(terms(.high) == Array(repeating: 2, count: blocks), "\(type) [\(isa)]")
                #expect(terms(.int8) == Array(repeating: 1, count: blocks), "\(type) [\(isa)]")
            }
        }
    }

    /// Two-term activations keep small values next to an outlier: |x - (d·q1 + d/256·q2)| ≤ d/512,
    /// or ≤ d/256 where q2 clamps at ±127 (single 8-bit terms would round 0.01 next to 100 to zero).
    /// Blocks below 2^-100 are zero.
    @Test func twoTermActivationsResolveOutlierBlocks() {
        var input = [Float](repeating: 0.01, count: 64)
        input[5] = 100
        for i in 32..<64 { input[i] = 1e-31 * Float(i - 31) }   // max 3.2e-30: above 2^-100
        input[40] = -0.5e-30
        var tiny = [Float](repeating: 1e-32, count: 32)          // max below 2^-100: all zero
        for isa in KernelISA.available {
            let row = ActivationQuantization.quantize(type: .q8_0, input: input, rowCount: 1, columnCount: 64, isa: isa)![0]
            for k in 0..<64 {
                let d = Double(row.scales[k / 32]), clamped = abs(row.residuals[k]) == 127
                #expect(abs(row.value(k) - Double(input[k])) <= d / (clamped ? 256 : 512) * 1.0001, "[\(isa)] element \(k)")
            }
            #expect(abs(row.value(0) - 0.01) < 0.001, "[\(isa)] 0.01 survives next to 100")
            let zero = ActivationQuantization.quantize(type: .q4_0, input: &tiny, rowCount: 1, columnCount: 32, isa: isa)![0]
            #expect(zero.scales == [0] && zero.quants.allSatisfy { $0 == 0 } && zero.residuals.allSatisfy { $0 == 0 }, "[\(isa)]")
        }
    }

    @Test func unsupportedTypesAndShapesThrowClearErrors() {
        let bytes = [UInt8](repeating: 0, count: 1024)
        bytes.withUnsafeBytes { raw in
            #expect(throws: WeightMatrixError.unsupportedType(.q2_K)) {
                try WeightMatrix(type: .q2_K, rowCount: 1, columnCount: 256, data: raw.baseAddress!)
            }
            #expect(throws: WeightMatrixError.badShape(type: .q4_K, rowCount: 2, columnCount: 96)) {
                try WeightMatrix(type: .q4_K, rowCount: 2, columnCount: 96, data: raw.baseAddress!)
            }
            #expect(throws: WeightMatrixError.badShape(type: .q8_0, rowCount: 0, columnCount: 32)) {
                try WeightMatrix(type: .q8_0, rowCount: 0, columnCount: 32, data: raw.baseAddress!)
            }
        }
        #expect(WeightMatrixError.unsupportedType(.q2_K).description.contains("Q4_K"))
    }

    @Test func scratchStopsGrowingOnceWarm() throws {
        let problem = try Problem(.q4_1, outputs: 48, columns: 64, maxRows: 9, seed: 4)
        let scratch = MatMulScratch(), pool = ThreadPool(threadCount: 2)
        var output = [Float](repeating: 0, count: 9 * 48)
        problem.input.withUnsafeBufferPointer { x in
            problem.matrix.multiply(input: x.baseAddress!, rowCount: 9, output: &output, pool: pool, scratch: scratch)
            let warm = scratch.byteCount
            for rows in [1, 4, 9] { problem.matrix.multiply(input: x.baseAddress!, rowCount: rows, output: &output, pool: pool, scratch: scratch) }
            #expect(scratch.byteCount == warm)
        }
    }
}
