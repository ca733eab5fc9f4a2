import CKernels
import GGUF

/// The C activation quantizer seen from Swift: lets tests read back what the kernels multiply.
public enum ActivationQuantization {
    /// Quantizes (rowCount, columnCount) fp32 rows for `type` weights at `isa` and decodes the
    /// result; nil for float weight types (no quantization).
    public static func quantize(type: GGMLType, input: UnsafePointer<Float>, rowCount: Int, columnCount: Int,
                                isa: KernelISA, precision: ActivationPrecision = .high) -> [MatMulReference.QuantizedRow]? {
        guard let blockSize = MatMulReference.activationBlockSize(for: type) else { return nil }
        let layout = ei_activation_layout_for(type.rawValue, columnCount)
        guard layout.row_bytes > 0 else { return nil }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: rowCount * layout.row_bytes, alignment: 64)
        defer { buffer.deallocate() }
        ei_quantize_activation_rows(isa.cValue, type.rawValue, input, columnCount, 0, rowCount, buffer, precision.residualThreshold)
        return (0..<rowCount).map { row in
            let base = buffer + row * layout.row_bytes
            let quants = (0..<columnCount).map {
                base.load(fromByteOffset: $0 / blockSize * layout.block_bytes + $0 % blockSize, as: Int8.self)
            }
            let residuals = (0..<columnCount).map {
                base.load(fromByteOffset: $0 / blockSize * layout.block_bytes + layout.residual_offset + $0 % blockSize, as: Int8.self)
            }
            let scales = (0..<columnCount / blockSize).map {
                base.loadUnaligned(fromByteOffset: $0 * layout.block_bytes + layout.scale_offset, as: Float.self)
            }
            return MatMulReference.QuantizedRow(quants: quants, residuals: residuals, scales: scales, blockSize: blockSize)
        }
    }

    /// The block sums the C quantizer stored for one row: 32-blocks: S = 256·Σq1 + Σq2 per block;
    /// K-quants: Σq1 per 32, Σq2 per 32, Σq1 per 16, Σq2 per 16 (per superblock, concatenated).
    public static func storedSums(type: GGMLType, input: UnsafePointer<Float>, columnCount: Int, isa: KernelISA,
                                  precision: ActivationPrecision = .high) -> [Int] {
        let layout = ei_activation_layout_for(type.rawValue, columnCount)
        guard layout.row_bytes > 0 else { return [] }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: layout.row_bytes, alignment: 64)
        defer { buffer.deallocate() }
        ei_quantize_activation_rows(isa.cValue, type.rawValue, input, columnCount, 0, 1, buffer, precision.residualThreshold)
        if layout.sum16_offset == 0 {
            return (0..<columnCount / 32).map { Int(buffer.loadUnaligned(fromByteOffset: $0 * layout.block_bytes + layout.sum_offset, as: Int32.self)) }
        }
        return (0..<columnCount / 256).flatMap { block -> [Int] in
            let base = block * layout.block_bytes
            let per32 = (0..<16).map { Int(buffer.loadUnaligned(fromByteOffset: base + layout.sum_offset + 2 * $0, as: Int16.self)) }
            let per16 = (0..<32).map { Int(buffer.loadUnaligned(fromByteOffset: base + layout.sum16_offset + 2 * $0, as: Int16.self)) }
            return per32 + per16
        }
    }

    /// The terms byte of every block of one row: 2 where the block kept its residual, 1 where its
    /// q2 are zeros (the AVX2 kernels then skip their products).
    public static func storedTerms(type: GGMLType, input: UnsafePointer<Float>, columnCount: Int, isa: KernelISA,
                                   precision: ActivationPrecision) -> [Int] {
        let layout = ei_activation_layout_for(type.rawValue, columnCount)
        guard layout.row_bytes > 0, let blockSize = MatMulReference.activationBlockSize(for: type) else { return [] }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: layout.row_bytes, alignment: 64)
        defer { buffer.deallocate() }
        ei_quantize_activation_rows(isa.cValue, type.rawValue, input, columnCount, 0, 1, buffer, precision.residualThreshold)
        return (0..<columnCount / blockSize).map { Int(buffer.load(fromByteOffset: $0 * layout.block_bytes + layout.terms_offset, as: UInt8.self)) }
    }

    /// The sums `storedSums` must hold, from a reference quantized row.
    public static func expectedSums(type: GGMLType, _ row: MatMulReference.QuantizedRow) -> [Int] {
        let count = row.quants.count
        if row.blockSize == 32 {
            return (0..<count / 32).map { 256 * row.sum(32 * $0, 32) + row.residualSum(32 * $0, 32) }
        }
        return (0..<count / 256).flatMap { block -> [Int] in
            let first32 = (0..<8).map { row.sum(256 * block + 32 * $0, 32) }
            let second32 = (0..<8).map { row.residualSum(256 * block + 32 * $0, 32) }
            let first16 = (0..<16).map { row.sum(256 * block + 16 * $0, 16) }
            let second16 = (0..<16).map { row.residualSum(256 * block + 16 * $0, 16) }
            return first32 + second32 + first16 + second16
        }
    }
}
