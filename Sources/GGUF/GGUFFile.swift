/// Description of one tensor stored in a GGUF file.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// ggml order: `dimensions[0]` is the innermost (contiguous) dimension, i.e. a matrix of
    /// `dimensions[1]` rows of `dimensions[0]` elements.
    public let dimensions: [Int]
    public let type: GGMLType
    /// Byte offset of the data from the start of the file.
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { dimensions.reduce(1, *) }
}

/// A parsed GGUF file (versions 2 and 3): metadata, tensor directory and the mapped bytes.
///
/// Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md. Every read is bounds
/// checked, so a truncated or corrupted file produces a `GGUFError`, never a crash.
public final class GGUFFile: @unchecked Sendable {
    /// Tensor types our kernels can compute with; others load as metadata only.
    public static let supportedTensorTypes: [GGMLType] = [
        .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K,
    ]

    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order (for listing).
    public let metadataKeys: [String]
    public let tensors: [String: GGUFTensorInfo]
    /// Tensor names in file order.
    public let tensorNames: [String]
    public let alignment: Int
    public let dataOffset: Int
    public let file: MappedFile

    /// Opens and parses a GGUF file. Only the header and directory are read; tensor data stays mapped.
    public convenience init(path: String) throws(GGUFError) {
        try self.init(mappedFile: MappedFile(path: path))
    }

    public init(mappedFile: MappedFile) throws(GGUFError) {
        file = mappedFile
        path = mappedFile.path
        var reader = ByteReader(base: mappedFile.base, count: mappedFile.byteCount, path: mappedFile.path)

        let magic = try reader.read(UInt32.self, "the magic number")
        guard magic == 0x4655_4747 else { throw .notGGUF(path: path, magic: magic) }
        version = try reader.read(UInt32.self, "the version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(path: path, version: version) }
        let tensorCount = try reader.readCount("the tensor count", minimumElementBytes: 24)
        let metadataCount = try reader.readCount("the metadata count", minimumElementBytes: 12)

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        keys.reserveCapacity(metadataCount)
        for index in 0..<metadataCount {
            let key = try reader.readString("metadata key #\(index)")
            let typeID = try reader.read(UInt32.self, "the type of '\(key)'")
            let value = try reader.readValue(typeID: typeID, context: key, depth: 0)
            if metadata.updateValue(value, forKey: key) != nil {
                throw .corrupt(path: path, message: "metadata key '\(key)' appears twice")
            }
            keys.append(key)
        }
        self.metadata = metadata
        metadataKeys = keys

        let alignment = metadata["general.alignment"]?.intValue ?? 32
        guard alignment > 0, alignment <= 1 << 20, alignment & (alignment - 1) == 0 else {
            throw .corrupt(path: path, message: "general.alignment \(alignment) is not a power of two")
        }
        self.alignment = alignment

        struct RawTensor { let name: String; let dimensions: [Int]; let typeID: UInt32; let offset: UInt64 }
        var raw: [RawTensor] = []
        raw.reserveCapacity(tensorCount)
        for index in 0..<tensorCount {
            let name = try reader.readString("the name of tensor #\(index)")
            let dimensionCount = try reader.read(UInt32.self, "the rank of tensor '\(name)'")
            guard dimensionCount >= 1, dimensionCount <= 4 else {
                throw .corrupt(path: path, message: "tensor '\(name)' has rank \(dimensionCount) (expected 1 to 4)")
            }
            var dimensions: [Int] = []
            for _ in 0..<dimensionCount {
                let size = try reader.read(UInt64.self, "a dimension of tensor '\(name)'")
                guard size >= 1, size <= 1 << 40 else {
                    throw .corrupt(path: path, message: "tensor '\(name)' has a dimension of \(size)")
                }
                dimensions.append(Int(size))
            }
            let typeID = try reader.read(UInt32.self, "the type of tensor '\(name)'")
            let offset = try reader.read(UInt64.self, "the offset of tensor '\(name)'")
            raw.append(RawTensor(name: name, dimensions: dimensions, typeID: typeID, offset: offset))
        }

        dataOffset = (reader.offset + alignment - 1) / alignment * alignment
        var tensors: [String: GGUFTensorInfo] = [:]
        var names: [String] = []
        for tensor in raw {
            guard let type = GGMLType(rawValue: tensor.typeID) else {
                throw .unsupportedTensorType(path: path, tensor: tensor.name, typeID: tensor.typeID)
            }
            var elementCount = 1
            for dimension in tensor.dimensions {
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw .corrupt(path: path, message: "tensor '\(tensor.name)' is impossibly large") }
                elementCount = product
            }
            guard tensor.dimensions[0] % type.blockSize == 0, let byteCount = type.byteCount(elements: elementCount) else {
                throw .corrupt(path: path, message: "tensor '\(tensor.name)' of type \(type) has a row of \(tensor.dimensions[0]) elements, not a multiple of \(type.blockSize)")
            }
            guard tensor.offset % UInt64(alignment) == 0, tensor.offset <= UInt64(Int.max - dataOffset) else {
                throw .corrupt(path: path, message: "tensor '\(tensor.name)' has a misaligned offset \(tensor.offset)")
            }
            let start = dataOffset + Int(tensor.offset)
            guard start <= mappedFile.byteCount, byteCount <= mappedFile.byteCount - start else {
                throw .truncated(path: path, needed: byteCount, available: max(0, mappedFile.byteCount - start),
                                 context: "the data of tensor '\(tensor.name)'")
            }
            guard tensors[tensor.name] == nil else {
                throw .corrupt(path: path, message: "tensor '\(tensor.name)' appears twice")
            }
            tensors[tensor.name] = GGUFTensorInfo(name: tensor.name, dimensions: tensor.dimensions, type: type,
                                                  fileOffset: start, byteCount: byteCount)
            names.append(tensor.name)
        }
        self.tensors = tensors
        tensorNames = names
    }

    // MARK: - Typed metadata access

    public func value(_ key: String) -> GGUFValue? { metadata[key] }

    public func string(_ key: String) throws(GGUFError) -> String {
        guard let value = metadata[key] else { throw .missingKey(path: path, key: key) }
        guard let string = value.stringValue else {
            throw .wrongValueType(path: path, key: key, expected: "a string", found: value.typeName)
        }
        return string
    }

    public func int(_ key: String) throws(GGUFError) -> Int {
        guard let value = metadata[key] else { throw .missingKey(path: path, key: key) }
        guard let int = value.intValue else {
            throw .wrongValueType(path: path, key: key, expected: "an integer", found: value.typeName)
        }
        return int
    }

    public func double(_ key: String) throws(GGUFError) -> Double {
        guard let value = metadata[key] else { throw .missingKey(path: path, key: key) }
        guard let double = value.doubleValue else {
            throw .wrongValueType(path: path, key: key, expected: "a number", found: value.typeName)
        }
        return double
    }

    public func array(_ key: String) throws(GGUFError) -> GGUFArray {
        guard let value = metadata[key] else { throw .missingKey(path: path, key: key) }
        guard let array = value.arrayValue else {
            throw .wrongValueType(path: path, key: key, expected: "an array", found: value.typeName)
        }
        return array
    }

    /// The tensor's description; throws naming the tensor when absent.
    public func tensor(_ name: String) throws(GGUFError) -> GGUFTensorInfo {
        guard let info = tensors[name] else { throw .missingTensor(path: path, name: name) }
        return info
    }

    /// Pointer to the first byte of the tensor's data inside the mapping.
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawPointer {
        file.base + tensor.fileOffset
    }
}

/// A bounds-checked little-endian cursor over the mapped bytes.
struct ByteReader {
    let base: UnsafeRawPointer
    let count: Int
    let path: String
    var offset = 0

    var remaining: Int { count - offset }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ context: @autoclosure () -> String) throws(GGUFError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else {
            throw .truncated(path: path, needed: size, available: remaining, context: context())
        }
        let value = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    /// Reads a u64 element count and rejects counts that cannot fit in the remaining bytes.
    mutating func readCount(_ context: @autoclosure () -> String, minimumElementBytes: Int) throws(GGUFError) -> Int {
        let raw = try read(UInt64.self, context())
        guard raw <= UInt64(remaining / max(1, minimumElementBytes)) else {
            throw .corrupt(path: path, message: "\(context()) is \(raw), more than the file can hold")
        }
        return Int(raw)
    }

    mutating func readString(_ context: @autoclosure () -> String) throws(GGUFError) -> String {
        let length = try read(UInt64.self, context())
        guard length <= UInt64(remaining) else {
            throw .truncated(path: path, needed: Int(clamping: length), available: remaining, context: context())
        }
        let bytes = UnsafeRawBufferPointer(start: base + offset, count: Int(length))
        offset += Int(length)
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func readValue(typeID: UInt32, context: String, depth: Int) throws(GGUFError) -> GGUFValue {
        switch typeID {
        case 0: return .uint8(try read(UInt8.self, context))
        case 1: return .int8(try read(Int8.self, context))
        case 2: return .uint16(try read(UInt16.self, context))
        case 3: return .int16(try read(Int16.self, context))
        case 4: return .uint32(try read(UInt32.self, context))
        case 5: return .int32(try read(Int32.self, context))
        case 6: return .float32(Float(bitPattern: try read(UInt32.self, context)))
        case 7:
            let byte = try read(UInt8.self, context)
            guard byte <= 1 else { throw .corrupt(path: path, message: "'\(context)' has bool value \(byte)") }
            return .bool(byte == 1)
        case 8: return .string(try readString(context))
        case 9: return .array(try readArray(context: context, depth: depth))
        case 10: return .uint64(try read(UInt64.self, context))
        case 11: return .int64(try read(Int64.self, context))
        case 12: return .float64(Double(bitPattern: try read(UInt64.self, context)))
        default:
            throw .corrupt(path: path, message: "metadata '\(context)' has unknown value type \(typeID)")
        }
    }

    private static let elementTypeNames = [
        "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array",
        "uint64", "int64", "float64",
    ]
    private static let elementBytes = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8]

    mutating func readArray(context: String, depth: Int) throws(GGUFError) -> GGUFArray {
        guard depth < 4 else { throw .corrupt(path: path, message: "metadata '\(context)' nests arrays too deeply") }
        let elementTypeID = try read(UInt32.self, context)
        guard elementTypeID < 13 else {
            throw .corrupt(path: path, message: "metadata '\(context)' has unknown element type \(elementTypeID)")
        }
        let count = try readCount("the length of '\(context)'", minimumElementBytes: Self.elementBytes[Int(elementTypeID)])
        let name = Self.elementTypeNames[Int(elementTypeID)]
        switch elementTypeID {
        case 0, 2, 4, 10:
            var values = [UInt64]()
            values.reserveCapacity(count)
            for _ in 0..<count {
                switch elementTypeID {
                case 0: values.append(UInt64(try read(UInt8.self, context)))
                case 2: values.append(UInt64(try read(UInt16.self, context)))
                case 4: values.append(UInt64(try read(UInt32.self, context)))
                default: values.append(try read(UInt64.self, context))
                }
            }
            return GGUFArray(elementType: name, storage: .unsignedIntegers(values))
        case 1, 3, 5, 11:
            var values = [Int64]()
            values.reserveCapacity(count)
            for _ in 0..<count {
                switch elementTypeID {
                case 1: values.append(Int64(try read(Int8.self, context)))
                case 3: values.append(Int64(try read(Int16.self, context)))
                case 5: values.append(Int64(try read(Int32.self, context)))
                default: values.append(try read(Int64.self, context))
                }
            }
            return GGUFArray(elementType: name, storage: .integers(values))
        case 6, 12:
            var values = [Double]()
            values.reserveCapacity(count)
            for _ in 0..<count {
                if elementTypeID == 6 {
                    values.append(Double(Float(bitPattern: try read(UInt32.self, context))))
                } else {
                    values.append(Double(bitPattern: try read(UInt64.self, context)))
                }
            }
            return GGUFArray(elementType: name, storage: .floats(values))
        case 7:
            var values = [Bool]()
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try read(UInt8.self, context) != 0) }
            return GGUFArray(elementType: name, storage: .bools(values))
        case 8:
            var values = [String]()
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try readString(context)) }
            return GGUFArray(elementType: name, storage: .strings(values))
        default:
            var values = [GGUFArray]()
            for _ in 0..<count {
                guard case .array(let inner) = try readValue(typeID: 9, context: context, depth: depth + 1) else { continue }
                values.append(inner)
            }
            return GGUFArray(elementType: name, storage: .arrays(values))
        }
    }
}
