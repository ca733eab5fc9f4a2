import CJansson
import CShims

/// Why a document is not valid JSON, with the position jansson reports.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// jansson's explanation, e.g. "'[' or '{' expected near 'x'".
    public var message: String
    /// 1-based line and character column (a multi-byte character counts once).
    public var line: Int
    public var column: Int
    /// Byte offset from the start of the document.
    public var position: Int

    public init(message: String, line: Int, column: Int, position: Int) {
        self.message = message; self.line = line; self.column = column; self.position = position
    }

    public var description: String { "\(message) at line \(line), column \(column) (byte \(position))" }
}

extension JSONValue {
    /// Parses a JSON document (any value at the top level; strings may contain `\u0000`).
    /// jansson validates UTF-8 and limits nesting to 2048 levels.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var error = json_error_t()
        let flags = size_t(JSON_DECODE_ANY) | size_t(JSON_ALLOW_NUL)
        // jansson reads nothing from a zero-length buffer but needs a non-NULL pointer.
        let storage = bytes.isEmpty ? [0] : bytes
        let root: UnsafeMutablePointer<json_t>? = storage.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                json_loadb(chars.baseAddress!, bytes.count, flags, &error)
            }
        }
        guard let root else {
            let message = withUnsafeBytes(of: &error.text) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            throw JSONParseError(message: message, line: Int(error.line), column: Int(error.column),
                                 position: Int(error.position))
        }
        defer { json_decref(root) }
        return convert(root)
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private static func convert(_ value: UnsafeMutablePointer<json_t>) -> JSONValue {
        switch UInt32(shim_json_type(value)) {
        case JSON_OBJECT.rawValue:
            var object = JSONObject()
            var iterator = json_object_iter(value)
            while let current = iterator {
                let keyLength = json_object_iter_key_len(current)
                let key = json_object_iter_key(current).map { pointer in
                    pointer.withMemoryRebound(to: UInt8.self, capacity: keyLength) {
                        String(decoding: UnsafeBufferPointer(start: $0, count: keyLength), as: UTF8.self)
                    }
                } ?? ""
                if let child = json_object_iter_value(current) { object[key] = convert(child) }
                iterator = json_object_iter_next(value, current)
            }
            return .object(object)
        case JSON_ARRAY.rawValue:
            let count = json_array_size(value)
            var array: [JSONValue] = []
            array.reserveCapacity(count)
            for position in 0..<count {
                if let child = json_array_get(value, position) { array.append(convert(child)) }
            }
            return .array(array)
        case JSON_STRING.rawValue:
            let length = json_string_length(value)
            guard let pointer = json_string_value(value) else { return .string("") }
            return .string(pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            })
        case JSON_INTEGER.rawValue:
            return .int(Int(json_integer_value(value)))
        case JSON_REAL.rawValue:
            return .double(json_real_value(value))
        case JSON_TRUE.rawValue:
            return .bool(true)
        case JSON_FALSE.rawValue:
            return .bool(false)
        default:
            return .null
        }
    }
}
