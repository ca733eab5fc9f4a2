import CKernels
import GGUF

/// The C activation quantizer seen from Swift: lets tests read back what the kernels multiply.
public enum ActivationQuantization {
    /// Quantizes (rowCount, columnCount) fp32 rows for `type` weights at `isa` and decodes the
    /// result; nil for float weight types (no quantization).
    public static func quantize(type: GGMLType, input: UnsafePointer<Float>, rowCount: Int, columnCount: Int,
                                isa: KernelISA) -> [MatMulReference.QuantizedRow]? {
        guard let blockSize = MatMulReference.activationBlockSize(for: type) else { return nil }
        let layout = ei_activation_layout_for(type.rawValue, columnCount)
        guard layout.row_bytes > 0 else { return nil }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: rowCount * layout.row_bytes, alignment: 64)
        defer { buffer.deallocate() }
        ei_quantize_activation_rows(isa.cValue, type.rawValue, input, columnCount, 0, rowCount, buffer)
        return (0..<rowCount).map { row in
            let base = buffer + row * layout.row_bytes
            let quants = (0..<columnCount).map {
                base.load(fromByteOffset: $0 / blockSize * layout.block_bytes + $0 % blockSize, as: Int8.self)
            }
            let scales = (0..<columnCount / blockSize).map {
                base.loadUnaligned(fromByteOffset: $0 * layout.block_bytes + layout.scale_offset, as: Float.self)
            }
            return MatMulReference.QuantizedRow(quants: quants, scales: scales, blockSize: blockSize)
        }
    }

    /// The block sums the C quantizer stored for one row: 32-blocks: Σq per block; K-quants: Σq per 32,
    /// then Σq per 16.
    public static func storedSums(type: GGMLType, input: UnsafePointer<Float>, columnCount: Int, isa: KernelISA) -> [Int] {
        let layout = ei_activation_layout_for(type.rawValue, columnCount)
        guard layout.row_bytes > 0 else { return [] }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: layout.row_bytes, alignment: 64)
        defer { buffer.deallocate() }
        ei_quantize_activation_rows(isa.cValue, type.rawValue, input, columnCount, 0, 1, buffer)
        // Sum i of a row: block i / perBlock, entry i % perBlock.
        func sum<T: FixedWidthInteger>(_ index: Int, perBlock: Int, at offset: Int, as: T.Type) -> Int {
            let byteOffset = index / perBlock * layout.block_bytes + offset + index % perBlock * MemoryLayout<T>.size
            return Int(buffer.loadUnaligned(fromByteOffset: byteOffset, as: T.self))
        }
        if layout.sum16_offset == 0 {
            return (0..<columnCount / 32).map { sum($0, perBlock: 1, at: layout.sum_offset, as: Int32.self) }
        }
        return (0..<columnCount / 32).map { sum($0, perBlock: 8, at: layout.sum_offset, as: Int16.self) }
            + (0..<columnCount / 16).map { sum($0, perBlock: 16, at: layout.sum16_offset, as: Int16.self) }
    }

    /// The sums `storedSums` must hold, from a reference quantized row.
    public static func expectedSums(type: GGMLType, _ row: MatMulReference.QuantizedRow) -> [Int] {
        let count = row.quants.count
        let per32 = (0..<count / 32).map { row.sum(32 * $0, 32) }
        return row.blockSize == 32 ? per32 : per32 + (0..<count / 16).map { row.sum(16 * $0, 16) }
    }
}
