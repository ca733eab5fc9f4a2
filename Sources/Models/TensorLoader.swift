import GGUF
import Kernels

/// Finds tensors by name, checks their shapes against the config, and wraps them.
struct TensorLoader {
    let file: GGUFFile
    /// Threads for repacking matrices at load (nil: the calling thread).
    var pool: ThreadPool? = nil
    /// How the matrices round their inputs (every matrix of a model the same way).
    var activationPrecision: ActivationPrecision = .high

    func info(_ name: String, dimensions: [Int]) throws(ModelError) -> GGUFTensorInfo {
        let info: GGUFTensorInfo
        do { info = try file.tensor(name) } catch { throw .file(error) }
        guard info.dimensions == dimensions else {
            throw .tensorShape(name: name, expected: dimensions, found: info.dimensions)
        }
        guard GGUFFile.supportedTensorTypes.contains(info.type) else {
            throw .unsupportedTensorType(name: name, type: info.type)
        }
        return info
    }

    /// A (rows, columns) matrix: GGUF dims [columns, rows].
    func matrix(_ name: String, rows: Int, columns: Int) throws(ModelError) -> WeightMatrix {
        let info = try info(name, dimensions: [columns, rows])
        do {
            return try WeightMatrix(type: info.type, rowCount: rows, columnCount: columns, data: file.data(of: info), pool: pool,
                                    activationPrecision: activationPrecision)
        } catch {
            throw .unsupportedFeature("cannot prepare tensor '\(name)': \(error)")
        }
    }

    /// Matrices with the same input, multiplied in one job.
    func set(_ matrices: [WeightMatrix], name: String) throws(ModelError) -> WeightMatrixSet {
        do {
            return try WeightMatrixSet(matrices)
        } catch {
            throw .unsupportedFeature("cannot group the matrices of '\(name)': \(error)")
        }
    }

    func vector(_ name: String, count: Int) throws(ModelError) -> [Float] {
        let info = try info(name, dimensions: [count])
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { buffer in
            Dequantize.row(info.type, from: file.data(of: info), into: buffer.baseAddress!, count: count)
        }
        return values
    }

    func optionalVector(_ name: String, count: Int) throws(ModelError) -> [Float]? {
        file.tensors[name] == nil ? nil : try vector(name, count: count)
    }
}
