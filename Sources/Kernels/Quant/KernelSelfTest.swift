import GGUF

/// Runs every matrix, quantization and f16 kernel at every available instruction-set level
/// against its plain-Swift reference. `entropyinfer kernel-selftest` runs it; a test runs that
/// command under QEMU CPUs without AVX-512 (and without AVX2) to prove the generic paths use no
/// instruction their level does not allow.
public enum KernelSelfTest {
    public struct Report: Sendable {
        public var checkCount = 0
        public var failures: [String] = []
        public var passed: Bool { failures.isEmpty && checkCount > 0 }
    }

    /// Shapes per type: (N, K) pairs and activation row counts; small enough for an emulated CPU.
    static func shapes(for type: GGMLType) -> (matrices: [(rows: Int, columns: Int)], inputRows: [Int]) {
        let block = MatMulReference.activationBlockSize(for: type) ?? 1
        let columns = block == 1 ? [5, 40] : [block, 3 * block]
        return ([(1, columns[0]), (19, columns[1]), (40, columns[0])], [1, 3, 6])
    }

    public static func run(isas: [KernelISA] = KernelISA.available, log: (String) -> Void = { _ in }) -> Report {
        var report = Report()
        func check(_ condition: Bool, _ message: @autoclosure () -> String) {
            report.checkCount += 1
            if !condition {
                report.failures.append(message())
                log("FAIL " + report.failures.last!)
            }
        }
        log("cpu features: \(KernelISA.cpuFeatures); testing levels: \(isas.map(\.description).joined(separator: ", "))")
        checkHalfConversion(isas: isas, check: check)
        let pool = ThreadPool(threadCount: 2)
        let scratch = MatMulScratch()
        for (typeIndex, type) in WeightMatrix.supportedTypes.enumerated() {
            let before = report.failures.count
            let (matrices, inputRows) = shapes(for: type)
            for (shapeIndex, shape) in matrices.enumerated() {
                let seed = UInt64(typeIndex * 100 + shapeIndex)
                let weights = QuantTestData.randomRows(type: type, rowCount: shape.rows, columnCount: shape.columns, seed: seed)
                let maxRows = inputRows.max()!
                let input = QuantTestData.randomActivations(count: maxRows * shape.columns, seed: seed + 7)
                let matrix: WeightMatrix
                do {
                    matrix = try weights.withUnsafeBytes {
                        try WeightMatrix(type: type, rowCount: shape.rows, columnCount: shape.columns, data: $0.baseAddress!)
                    }
                } catch {
                    check(false, "\(type) \(shape.rows)×\(shape.columns): \(error)")
                    continue
                }
                for rows in inputRows {
                    var expected = [Float](repeating: 0, count: rows * shape.rows)
                    var oracle = expected
                    weights.withUnsafeBytes { w in
                        MatMulReference.exact(type: type, weights: w.baseAddress!, rowCount: shape.rows, columnCount: shape.columns,
                                              input: input, inputRowCount: rows, output: &expected)
                        MatMulReference.dequantized(type: type, weights: w.baseAddress!, rowCount: shape.rows,
                                                    columnCount: shape.columns, input: input, inputRowCount: rows, output: &oracle)
                    }
                    for isa in isas {
                        if let quantized = ActivationQuantization.quantize(type: type, input: input, rowCount: rows,
                                                                           columnCount: shape.columns, isa: isa) {
                            for row in 0..<rows {
                                let reference = input.withUnsafeBufferPointer {
                                    MatMulReference.quantize($0.baseAddress! + row * shape.columns, count: shape.columns,
                                                             blockSize: quantized[row].blockSize)
                                }
                                check(quantized[row] == reference, "\(type) activation quantization [\(isa)] row \(row) differs from the Swift reference")
                            }
                        }
                        var output = [Float](repeating: .nan, count: rows * shape.rows)
                        matrix.multiply(input: input, rowCount: rows, output: &output, pool: pool, scratch: scratch, isa: isa)
                        let mismatches = zip(output, expected).filter { $0.bitPattern != $1.bitPattern }.count
                        check(mismatches == 0, "\(type) [\(isa)] \(rows)×\(shape.columns) · (\(shape.rows)×\(shape.columns))ᵀ: "
                              + "\(mismatches) of \(output.count) outputs differ from MatMulReference.exact "
                              + "(first: \(firstDifference(output, expected)))")
                    }
                    var worst: Float = 0
                    weights.withUnsafeBytes { w in
                        for m in 0..<rows {
                            for n in 0..<shape.rows {
                                let bound = input.withUnsafeBufferPointer {
                                    MatMulReference.activationErrorBound(type: type, weights: w.baseAddress!, columnCount: shape.columns,
                                                                         row: n, input: $0.baseAddress! + m * shape.columns)
                                }
                                worst = max(worst, abs(expected[m * shape.rows + n] - oracle[m * shape.rows + n]) / bound)
                            }
                        }
                    }
                    check(worst <= 1, "\(type) \(rows)×\(shape.columns): quantized result off the fp32 oracle by \(worst)× the bound")
                }
            }
            log("\(type): \(report.failures.count == before ? "ok" : "FAILED")")
        }
        return report
    }

    static func firstDifference(_ a: [Float], _ b: [Float]) -> String {
        guard let index = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) else { return "none" }
        return "index \(index): \(a[index]) vs \(b[index])"
    }

    static func checkHalfConversion(isas: [KernelISA], check: (Bool, @autoclosure () -> String) -> Void) {
        let halves = (0...UInt16.max).map { $0 }
        var floats = [Float](repeating: 0, count: halves.count)
        var random = SplitMix64(seed: 42)
        var values: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, -65520, 1e-8, 5.96e-8, 2.98e-8, 2.9802322e-08, 6.1035156e-05,
                               6.097555e-05, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, .nan]
        values += (0..<4000).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &random)) }
        values += (0..<4000).map { _ in Float.random(in: -70000...70000, using: &random) }
        values += (0..<4000).map { _ in Float.random(in: -1e-4...1e-4, using: &random) }
        var encoded = [UInt16](repeating: 0, count: values.count)
        for isa in isas {
            HalfPrecision.convert(halves, to: &floats, count: halves.count, isa: isa)
            let wrong = halves.indices.filter { i in
                let expected = HalfPrecision.referenceFloat(halves[i])
                return expected.isNaN ? !floats[i].isNaN : floats[i].bitPattern != expected.bitPattern
            }
            check(wrong.isEmpty, "f16 -> f32 [\(isa)]: \(wrong.count) of 65536 halves differ (first 0x\(String(wrong.first ?? 0, radix: 16)))")
            HalfPrecision.convert(values, to: &encoded, count: values.count, isa: isa)
            let wrongHalves = values.indices.filter { i in
                let expected = HalfPrecision.referenceHalf(values[i])
                return values[i].isNaN ? (encoded[i] & 0x7C00 != 0x7C00 || encoded[i] & 0x3FF == 0) : encoded[i] != expected
            }
            check(wrongHalves.isEmpty, "f32 -> f16 [\(isa)]: \(wrongHalves.count) of \(values.count) values differ"
                  + (wrongHalves.first.map { " (first \(values[$0]): 0x\(String(encoded[$0], radix: 16)))" } ?? ""))
        }
    }
}
