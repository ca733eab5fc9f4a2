// INTERIM (integrator): minimal dequantization + fp32 matmul so the forward pass can be
// developed before the real kernels (branch `quant`) land. Deleted at that merge.
import COpenBLAS
import CKernels
import GGUF

public enum Dequantize {
    public static func row(_ type: GGMLType, from source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
        switch type {
        case .f32:
            destination.update(from: source.assumingMemoryBound(to: Float.self), count: count)
        case .f16:
            let h = source.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { destination[i] = ei_f16_to_f32(h[i]) }
        case .q8_0:
            for block in 0..<count / 32 {
                let base = source + block * 34
                let d = ei_f16_to_f32(base.loadUnaligned(as: UInt16.self))
                for i in 0..<32 { destination[block * 32 + i] = d * Float(base.load(fromByteOffset: 2 + i, as: Int8.self)) }
            }
        case .q4_1:
            for block in 0..<count / 32 {
                let base = source + block * 20
                let d = ei_f16_to_f32(base.loadUnaligned(as: UInt16.self))
                let m = ei_f16_to_f32(base.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
                for i in 0..<16 {
                    let byte = base.load(fromByteOffset: 4 + i, as: UInt8.self)
                    destination[block * 32 + i] = Float(byte & 0x0F) * d + m
                    destination[block * 32 + i + 16] = Float(byte >> 4) * d + m
                }
            }
        default:
            fatalError("interim dequantization does not support \(type)")
        }
    }
}

public final class MatMulScratch: @unchecked Sendable {
    public init() {}
}

public final class WeightMatrix: @unchecked Sendable {
    public let type: GGMLType
    public let rowCount: Int
    public let columnCount: Int
    private let dense: UnsafeMutablePointer<Float>

    public init(type: GGMLType, rowCount: Int, columnCount: Int, data: UnsafeRawPointer) throws {
        self.type = type
        self.rowCount = rowCount
        self.columnCount = columnCount
        dense = .allocate(capacity: rowCount * columnCount)
        let rowBytes = type.byteCount(elements: columnCount)!
        for row in 0..<rowCount {
            Dequantize.row(type, from: data + row * rowBytes, into: dense + row * columnCount, count: columnCount)
        }
    }

    deinit { dense.deallocate() }

    public func multiply(input: UnsafePointer<Float>, rowCount m: Int, output: UnsafeMutablePointer<Float>,
                         pool: ThreadPool, scratch: MatMulScratch) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(rowCount), Int32(columnCount), 1,
                    input, Int32(columnCount), dense, Int32(columnCount), 0, output, Int32(rowCount))
    }
}
