/// A JSON document as a Swift value. Objects keep their keys in document order, so what the
/// server writes reads the way the OpenAI API documents it and what it parses can be echoed back
/// unchanged.
///
/// Integers and reals stay distinct (`1` is `.int`, `1.0` is `.double`), as jansson reports them;
/// `intValue` and `doubleValue` convert where the number allows it.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A value built from a Float so that it serializes with the Float's shortest digits
    /// (`0.1` rather than `0.10000000149011612`), as clients expect for logprobs.
    public static func float(_ value: Float) -> JSONValue {
        guard value.isFinite else { return .double(Double(value)) }
        return .double(Double(value.description) ?? Double(value))
    }

    /// The name of the value's JSON type as error messages use it ("a string", "an integer"…).
    public var typeDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var boolValue: Bool? { if case .bool(let value) = self { return value } else { return nil } }

    public var stringValue: String? { if case .string(let value) = self { return value } else { return nil } }

    public var arrayValue: [JSONValue]? { if case .array(let value) = self { return value } else { return nil } }

    public var objectValue: JSONObject? { if case .object(let value) = self { return value } else { return nil } }

    /// The integer, also from a real with no fractional part (`2.0`) that fits `Int`.
    public var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value):
            guard value.rounded() == value, let exact = Int(exactly: value) else { return nil }
            return exact
        default: return nil
        }
    }

    /// The number as a Double (integers convert).
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// `value["key"]` on objects, nil otherwise.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

extension JSONValue {
    /// `.string` or `.null`.
    public init(_ string: String?) { self = string.map { .string($0) } ?? .null }
    /// `.int` or `.null`.
    public init(_ int: Int?) { self = int.map { .int($0) } ?? .null }
}
