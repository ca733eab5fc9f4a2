/// One metadata value of a GGUF file.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)

    /// The value as an integer, if it is one of the integer types (or a bool).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return v <= UInt64(Int.max) ? Int(v) : nil
        case .int64(let v): return Int(v)
        case .bool(let v): return v ? 1 : 0
        default: return nil
        }
    }

    /// The value as a floating-point number, if it is numeric.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return intValue.map(Double.init)
        }
    }

    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    public var arrayValue: GGUFArray? {
        if case .array(let v) = self { return v }
        return nil
    }

    /// The GGUF name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .uint32: return "uint32"
        case .int32: return "int32"
        case .uint64: return "uint64"
        case .int64: return "int64"
        case .float32: return "float32"
        case .float64: return "float64"
        case .bool: return "bool"
        case .string: return "string"
        case .array(let a): return "array of \(a.count) \(a.elementType)"
        }
    }
}

/// A metadata array. Elements are decoded at parse time into the representation that fits
/// their type, so large vocabularies (150K strings) are read once.
public struct GGUFArray: Sendable, Equatable {
    public enum Storage: Sendable, Equatable {
        case integers([Int64])
        case unsignedIntegers([UInt64])
        case floats([Double])
        case bools([Bool])
        case strings([String])
        case arrays([GGUFArray])
    }

    /// GGUF type name of the elements (e.g. "string", "int32").
    public let elementType: String
    public let storage: Storage

    public var count: Int {
        switch storage {
        case .integers(let v): return v.count
        case .unsignedIntegers(let v): return v.count
        case .floats(let v): return v.count
        case .bools(let v): return v.count
        case .strings(let v): return v.count
        case .arrays(let v): return v.count
        }
    }

    public var strings: [String]? {
        if case .strings(let v) = storage { return v }
        return nil
    }

    /// Integer elements of any integer width (unsigned values above Int64.max are rejected).
    public var integers: [Int]? {
        switch storage {
        case .integers(let v): return v.map { Int($0) }
        case .unsignedIntegers(let v):
            guard v.allSatisfy({ $0 <= UInt64(Int64.max) }) else { return nil }
            return v.map { Int($0) }
        case .bools(let v): return v.map { $0 ? 1 : 0 }
        default: return nil
        }
    }

    public var floats: [Float]? {
        switch storage {
        case .floats(let v): return v.map { Float($0) }
        case .integers(let v): return v.map { Float($0) }
        case .unsignedIntegers(let v): return v.map { Float($0) }
        default: return nil
        }
    }
}
