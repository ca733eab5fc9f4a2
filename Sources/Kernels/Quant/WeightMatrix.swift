import CKernels
import GGUF

/// Why a weight matrix cannot be prepared.
public enum WeightMatrixError: Error, CustomStringConvertible, Equatable {
    case unsupportedType(GGMLType)
    case badShape(type: GGMLType, rowCount: Int, columnCount: Int)
    case outOfMemory(byteCount: Int)
    case emptySet
    case columnCountMismatch(Int, Int)

    public var description: String {
        switch self {
        case .unsupportedType(let type):
            return "weight type \(type) has no matrix kernel; supported: "
                + WeightMatrix.supportedTypes.map(\.name).joined(separator: ", ")
        case .badShape(let type, let rows, let columns):
            return "a \(type) matrix needs a positive row count and a column count that is a positive multiple of "
                + "\(type.blockSize); got \(rows) × \(columns)"
        case .outOfMemory(let bytes):
            return "cannot allocate \(bytes) bytes for packed weights"
        case .emptySet:
            return "a weight matrix set needs at least one matrix"
        case .columnCountMismatch(let expected, let found):
            return "matrices multiplying one input need the same column count; got \(expected) and \(found)"
        }
    }
}

/// A weight matrix W of shape (rowCount N = outputs, columnCount K = inputs) in a GGUF type,
/// repacked once at load into groups of 16 interleaved rows (Sources/CKernels/quant_layout.h).
///
/// `multiply` computes `output[m·N + n] = Σ_k input[m·K + k] · W[n][k]` with integer dot products
/// on activations quantized in two 8-bit terms per block (x ≈ d·q1 + d/256·q2: about 16-bit
/// precise, so the result stays within ~1e-6 nats of KL of fp32 activations on real models; float
/// weight types use fp32 FMAs). Results are bit-identical for every instruction-set level, row
/// count, tiling and thread count; `MatMulReference.exact` states the arithmetic in plain Swift.
/// Packed weights take the same bytes as the GGUF tensor (packing runs at ~200–450 MB/s per
/// thread; pass a pool to pack large matrices in parallel).
public final class WeightMatrix: @unchecked Sendable {
    public static let supportedTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K, .f16, .bf16, .f32]

    public let type: GGMLType
    /// N: outputs per input row.
    public let rowCount: Int
    /// K: inputs per row.
    public let columnCount: Int
    /// Bytes of the packed weights this matrix owns.
    public let packedByteCount: Int
    /// How inputs are rounded for the integer kernels (ignored by float weight types).
    public let activationPrecision: ActivationPrecision

    private let packed: UnsafeMutableRawPointer   // (groupCount, group bytes), 64-byte aligned
    /// Packed groups of 16 output rows.
    let groupCount: Int

    /// Packs `rowCount` GGUF rows of `columnCount` elements from `data` (read only during init).
    public convenience init(type: GGMLType, rowCount: Int, columnCount: Int, data: UnsafeRawPointer,
                            activationPrecision: ActivationPrecision = .high) throws {
        try self.init(type: type, rowCount: rowCount, columnCount: columnCount, data: data, pool: nil,
                      activationPrecision: activationPrecision)
    }

    /// The same, packing groups in parallel on `pool`.
    public init(type: GGMLType, rowCount: Int, columnCount: Int, data: UnsafeRawPointer, pool: ThreadPool?,
                activationPrecision: ActivationPrecision = .high) throws {
        guard Self.supportedTypes.contains(type) else { throw WeightMatrixError.unsupportedType(type) }
        let byteCount = ei_packed_weight_bytes(type.rawValue, rowCount, columnCount)
        guard rowCount > 0, columnCount > 0, byteCount > 0 else {
            throw WeightMatrixError.badShape(type: type, rowCount: rowCount, columnCount: columnCount)
        }
        self.type = type
        self.activationPrecision = activationPrecision
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.packedByteCount = byteCount
        self.groupCount = (rowCount + Int(EI_GROUP_ROWS) - 1) / Int(EI_GROUP_ROWS)
        packed = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        let packed = self.packed, groupCount = self.groupCount
        var failed = false
        if let pool, pool.threadCount > 1 {
            var results = [Int32](repeating: 1, count: pool.threadCount * 4)
            results.withUnsafeMutableBufferPointer { results in
                pool.run(tasks: results.count) { task in
                    let begin = groupCount * task / results.count, end = groupCount * (task + 1) / results.count
                    if begin < end {
                        results[task] = ei_pack_weight_groups(type.rawValue, data, rowCount, columnCount, packed, begin, end)
                    }
                }
            }
            failed = results.contains(0)
        } else {
            failed = ei_pack_weight_groups(type.rawValue, data, rowCount, columnCount, packed, 0, groupCount) == 0
        }
        if failed {
            packed.deallocate()
            throw WeightMatrixError.outOfMemory(byteCount: byteCount)
        }
    }

    deinit { packed.deallocate() }

    /// `output[m·N + n] = Σ_k input[m·K + k] · W[n][k]` for m in 0..<rowCount.
    /// - Parameters:
    ///   - input: (rowCount, K) fp32, row-major.
    ///   - output: (rowCount, N) fp32, row-major.
    public func multiply(input: UnsafePointer<Float>, rowCount inputRowCount: Int, output: UnsafeMutablePointer<Float>,
                         pool: ThreadPool, scratch: MatMulScratch) {
        multiply(input: input, rowCount: inputRowCount, output: output, pool: pool, scratch: scratch, isa: .active)
    }

    /// The same at an explicit instruction-set level (tests and benchmarks compare them).
    public func multiply(input: UnsafePointer<Float>, rowCount inputRowCount: Int, output: UnsafeMutablePointer<Float>,
                         pool: ThreadPool, scratch: MatMulScratch, isa: KernelISA) {
        guard inputRowCount > 0 else { return }
        let rowBytes = ei_activation_layout_for(type.rawValue, columnCount).row_bytes
        var activations: UnsafeRawPointer? = nil
        if rowBytes > 0 {
            let buffer = scratch.bytes(inputRowCount * rowBytes)
            Self.quantize(type: type, input: input, rowCount: inputRowCount, columnCount: columnCount, into: buffer, pool: pool,
                          isa: isa, precision: activationPrecision)
            activations = UnsafeRawPointer(buffer)
        }
        pool.parallelRanges(groupCount, tasksPerThread: inputRowCount == 1 ? 4 : 1) { groups in
            multiplyGroups(input: input, rowCount: inputRowCount, activations: activations, output: output, groups: groups, isa: isa)
        }
    }

    /// Quantizes (rowCount, columnCount) fp32 rows for `type`'s family into `buffer`.
    static func quantize(type: GGMLType, input: UnsafePointer<Float>, rowCount: Int, columnCount: Int,
                         into buffer: UnsafeMutableRawPointer, pool: ThreadPool, isa: KernelISA, precision: ActivationPrecision) {
        if rowCount < 4 || pool.threadCount == 1 {
            ei_quantize_activation_rows(isa.cValue, type.rawValue, input, columnCount, 0, rowCount, buffer, precision.residualThreshold)
        } else {
            pool.parallelRanges(rowCount) { rows in
                ei_quantize_activation_rows(isa.cValue, type.rawValue, input, columnCount, rows.lowerBound, rows.upperBound, buffer,
                                            precision.residualThreshold)
            }
        }
    }

    /// Output rows of packed groups `groups` (16 rows each) for every input row.
    func multiplyGroups(input: UnsafePointer<Float>, rowCount inputRowCount: Int, activations: UnsafeRawPointer?,
                        output: UnsafeMutablePointer<Float>, groups: Range<Int>, isa: KernelISA) {
        ei_matmul_groups(isa.cValue, type.rawValue, packed, rowCount, columnCount, activations, input, inputRowCount, output,
                         groups.lowerBound, groups.upperBound, activationPrecision.terms)
    }
}
