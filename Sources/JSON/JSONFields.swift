/// Typed access to the fields of a request object. Absent and `null` fields read as nil (OpenAI
/// clients send `null` for unset options); a present field of the wrong type or out of range
/// throws a `JSONFieldError` naming its full path (`messages[0].content`).
public struct JSONFields: Sendable {
    public let object: JSONObject
    /// Path of this object inside the request ("" at the top level).
    public let path: String

    public init(_ object: JSONObject, path: String = "") {
        self.object = object; self.path = path
    }

    /// The top-level request body, which must be an object.
    public static func body(_ value: JSONValue) throws(JSONFieldError) -> JSONFields {
        guard case .object(let object) = value else {
            throw JSONFieldError(.invalidType, parameter: "",
                                 message: "The request body must be a JSON object, but it is \(value.typeDescription).")
        }
        return JSONFields(object)
    }

    /// The client-facing name of `key` at this level.
    public func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value of `key`; nil when absent or null.
    public func value(_ key: String) -> JSONValue? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    public func contains(_ key: String) -> Bool { value(key) != nil }

    public func required(_ key: String) throws(JSONFieldError) -> JSONValue {
        guard let value = value(key) else { throw .missing(name(key)) }
        return value
    }

    public func string(_ key: String) throws(JSONFieldError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw .invalidType(name(key), expected: "a string", got: value) }
        return text
    }

    public func requiredString(_ key: String) throws(JSONFieldError) -> String {
        guard let text = try string(key) else { throw .missing(name(key)) }
        return text
    }

    public func bool(_ key: String) throws(JSONFieldError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw .invalidType(name(key), expected: "a boolean", got: value) }
        return flag
    }

    /// An integer (a real with no fraction, like `2.0`, is accepted), optionally bounded.
    public func int(_ key: String, _ bound: NumericBound<Int>? = nil) throws(JSONFieldError) -> Int? {
        guard let value = value(key) else { return nil }
        guard let number = value.intValue else { throw .invalidType(name(key), expected: "an integer", got: value) }
        if let bound, !bound.contains(number) {
            throw .invalidValue(name(key), "expected an integer \(bound.description), but got \(number).")
        }
        return number
    }

    /// A number (integer or real), optionally bounded; NaN cannot occur in JSON.
    public func double(_ key: String, _ bound: NumericBound<Double>? = nil) throws(JSONFieldError) -> Double? {
        guard let value = value(key) else { return nil }
        guard let number = value.doubleValue else { throw .invalidType(name(key), expected: "a number", got: value) }
        if let bound, !bound.contains(number) {
            throw .invalidValue(name(key), "expected a number \(bound.description), but got \(Self.format(number)).")
        }
        return number
    }

    public func array(_ key: String) throws(JSONFieldError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else { throw .invalidType(name(key), expected: "an array", got: value) }
        return elements
    }

    public func requiredArray(_ key: String) throws(JSONFieldError) -> [JSONValue] {
        guard let elements = try array(key) else { throw .missing(name(key)) }
        return elements
    }

    /// A nested object, read with the same rules.
    public func fields(_ key: String) throws(JSONFieldError) -> JSONFields? {
        guard let value = value(key) else { return nil }
        guard case .object(let nested) = value else { throw .invalidType(name(key), expected: "an object", got: value) }
        return JSONFields(nested, path: name(key))
    }

    /// Element `index` of the array field `key`, which must be an object.
    public func element(_ key: String, _ index: Int, of elements: [JSONValue]) throws(JSONFieldError) -> JSONFields {
        let path = "\(name(key))[\(index)]"
        guard case .object(let nested) = elements[index] else {
            throw .invalidType(path, expected: "an object", got: elements[index])
        }
        return JSONFields(nested, path: path)
    }

    /// A string or an array of strings (OpenAI's `stop`), as a list.
    public func strings(_ key: String) throws(JSONFieldError) -> [String]? {
        guard let value = value(key) else { return nil }
        switch value {
        case .string(let text): return [text]
        case .array(let elements):
            var texts: [String] = []
            for (position, element) in elements.enumerated() {
                guard case .string(let text) = element else {
                    throw .invalidType("\(name(key))[\(position)]", expected: "a string", got: element)
                }
                texts.append(text)
            }
            return texts
        default:
            throw .invalidType(name(key), expected: "a string or an array of strings", got: value)
        }
    }

    static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : number.description
    }
}
