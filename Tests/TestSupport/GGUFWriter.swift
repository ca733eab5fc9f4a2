import Foundation
import GGUF

/// Builds small GGUF files in memory for tests (synthetic vocabularies, tiny random models,
/// corrupted inputs). Writes version 3, little endian, 32-byte alignment.
public struct GGUFWriter {
    public enum Value {
        case uint32(UInt32), int32(Int32), uint64(UInt64), float32(Float), bool(Bool), string(String)
        case strings([String]), int32s([Int32]), float32s([Float])
    }

    public struct Tensor {
        public var name: String
        public var dimensions: [Int]
        public var type: GGMLType
        public var bytes: [UInt8]
        public init(name: String, dimensions: [Int], type: GGMLType, bytes: [UInt8]) {
            self.name = name; self.dimensions = dimensions; self.type = type; self.bytes = bytes
        }
        /// An F32 tensor from floats.
        public init(name: String, dimensions: [Int], floats: [Float]) {
            self.init(name: name, dimensions: dimensions, type: .f32,
                      bytes: floats.withUnsafeBytes { Array($0) })
        }
    }

    public var metadata: [(String, Value)] = []
    public var tensors: [Tensor] = []
    public var alignment = 32

    public init() {}

    public mutating func set(_ key: String, _ value: Value) { metadata.append((key, value)) }

    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func string(_ s: String) { u64(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        u32(0x4655_4747); u32(3); u64(UInt64(tensors.count)); u64(UInt64(metadata.count))
        for (key, value) in metadata {
            string(key)
            switch value {
            case .uint32(let v): u32(4); u32(v)
            case .int32(let v): u32(5); u32(UInt32(bitPattern: v))
            case .uint64(let v): u32(10); u64(v)
            case .float32(let v): u32(6); u32(v.bitPattern)
            case .bool(let v): u32(7); out.append(v ? 1 : 0)
            case .string(let v): u32(8); string(v)
            case .strings(let v): u32(9); u32(8); u64(UInt64(v.count)); v.forEach(string)
            case .int32s(let v): u32(9); u32(5); u64(UInt64(v.count)); v.forEach { u32(UInt32(bitPattern: $0)) }
            case .float32s(let v): u32(9); u32(6); u64(UInt64(v.count)); v.forEach { u32($0.bitPattern) }
            }
        }
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            offsets.append(offset)
            offset += (tensor.bytes.count + alignment - 1) / alignment * alignment
        }
        for (tensor, tensorOffset) in zip(tensors, offsets) {
            string(tensor.name)
            u32(UInt32(tensor.dimensions.count))
            tensor.dimensions.forEach { u64(UInt64($0)) }
            u32(tensor.type.rawValue)
            u64(UInt64(tensorOffset))
        }
        while out.count % alignment != 0 { out.append(0) }
        for tensor in tensors {
            out.append(contentsOf: tensor.bytes)
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }

    /// Writes the file to a fresh temporary path and returns the path.
    public func write(name: String = "test") throws -> String {
        let path = NSTemporaryDirectory() + "entropyinfer-\(name)-\(UUID().uuidString).gguf"
        try Data(bytes()).write(to: URL(fileURLWithPath: path))
        return path
    }
}
