import CKernels
import GGUF

/// Matrices that multiply the same input (a layer's query, key and value projections; its gate and
/// up projections): the input is quantized once per weight family and every matrix runs in one pool
/// job, so decode pays one dispatch instead of several. Each output is bit-identical to what
/// `WeightMatrix.multiply` produces for that matrix alone. Build the set once at load.
public final class WeightMatrixSet: @unchecked Sendable {
    public let matrices: [WeightMatrix]
    public let columnCount: Int
    /// groupStarts[i] = packed groups of matrices[0..<i]; the last entry is the total.
    private let groupStarts: [Int]
    /// A representative type per activation family present (32-blocks, K-quants), nil if absent.
    private let blockFamilyType: GGMLType?
    private let superblockFamilyType: GGMLType?
    private let activationPrecision: ActivationPrecision

    public init(_ matrices: [WeightMatrix]) throws {
        guard let first = matrices.first else { throw WeightMatrixError.emptySet }
        for matrix in matrices where matrix.columnCount != first.columnCount {
            throw WeightMatrixError.columnCountMismatch(first.columnCount, matrix.columnCount)
        }
        // One quantized input serves every matrix, so they must round it the same way.
        precondition(matrices.allSatisfy { $0.activationPrecision == first.activationPrecision },
                     "matrices of a set share their activation precision")
        activationPrecision = first.activationPrecision
        self.matrices = matrices
        columnCount = first.columnCount
        var starts = [0]
        for matrix in matrices { starts.append(starts.last! + matrix.groupCount) }
        groupStarts = starts
        blockFamilyType = matrices.first { MatMulReference.activationBlockSize(for: $0.type) == 32 }?.type
        superblockFamilyType = matrices.first { MatMulReference.activationBlockSize(for: $0.type) == 256 }?.type
    }

    /// `outputs[i][m·N_i + n] = Σ_k input[m·K + k] · matrices[i][n][k]`.
    /// - Parameters:
    ///   - input: (rowCount, K) fp32.
    ///   - outputs: one (rowCount, N_i) fp32 buffer per matrix. Keep the array (e.g. in the caller's
    ///     scratch) so decode steps do not allocate one.
    public func multiply(input: UnsafePointer<Float>, rowCount: Int, outputs: [UnsafeMutablePointer<Float>],
                         pool: ThreadPool, scratch: MatMulScratch, isa: KernelISA = .active) {
        precondition(outputs.count == matrices.count, "one output buffer per matrix")
        guard rowCount > 0 else { return }
        let blockLayout = blockFamilyType.map { ei_activation_layout_for($0.rawValue, columnCount) }
        let superblockLayout = superblockFamilyType.map { ei_activation_layout_for($0.rawValue, columnCount) }
        let blockBytes = rowCount * (blockLayout?.row_bytes ?? 0)
        let buffer = scratch.bytes(blockBytes + rowCount * (superblockLayout?.row_bytes ?? 0))
        if let type = blockFamilyType {
            WeightMatrix.quantize(type: type, input: input, rowCount: rowCount, columnCount: columnCount, into: buffer, pool: pool, isa: isa,
                                  precision: activationPrecision)
        }
        if let type = superblockFamilyType {
            WeightMatrix.quantize(type: type, input: input, rowCount: rowCount, columnCount: columnCount, into: buffer + blockBytes,
                                  pool: pool, isa: isa, precision: activationPrecision)
        }
        let blockRows = UnsafeRawPointer(buffer), superblockRows = UnsafeRawPointer(buffer + blockBytes)
        let total = groupStarts.last!
        pool.parallelRanges(total, tasksPerThread: rowCount == 1 ? 4 : 1) { range in
            // The range may span several matrices: run each piece.
            var index = 0
            while groupStarts[index + 1] <= range.lowerBound { index += 1 }
            var start = range.lowerBound
            while start < range.upperBound {
                let matrix = matrices[index]
                let end = min(range.upperBound, groupStarts[index + 1])
                let activations = MatMulReference.activationBlockSize(for: matrix.type) == 256 ? superblockRows : blockRows
                matrix.multiplyGroups(input: input, rowCount: rowCount, activations: activations, output: outputs[index],
                                      groups: (start - groupStarts[index])..<(end - groupStarts[index]), isa: isa)
                start = end
                index += 1
            }
        }
    }
}
