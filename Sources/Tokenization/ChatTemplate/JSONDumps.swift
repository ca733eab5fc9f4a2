// HF's `tojson` filter: Python's `json.dumps(x, ensure_ascii=False, indent=None,
// separators=None, sort_keys=False)`, reproduced byte for byte.

struct JSONDumpOptions {
    var ensureASCII = false
    /// nil: one line. Otherwise the text of one indentation level ("" for `indent=0`).
    var indent: String? = nil
    /// Python's defaults: `(", ", ": ")` on one line, `(",", ": ")` when indenting.
    var itemSeparator: String? = nil
    var keySeparator: String? = nil
    var sortKeys = false
}

enum JSONDumpError: Error {
    case notSerializable(typeName: String)
    case invalidKey(typeName: String)

    /// Python's message for it.
    var message: String {
        switch self {
        case .notSerializable(let typeName): return "Object of type \(typeName) is not JSON serializable"
        case .invalidKey(let typeName): return "keys must be str, int, float, bool or None, not \(typeName)"
        }
    }
}

func pythonJSONDumps(_ value: Value, options: JSONDumpOptions = JSONDumpOptions()) throws(JSONDumpError) -> String {
    var writer = JSONDumpWriter(options: options)
    try writer.write(value, level: 0)
    return writer.out
}

private struct JSONDumpWriter {
    let options: JSONDumpOptions
    let itemSeparator: String
    let keySeparator: String
    var out = ""

    init(options: JSONDumpOptions) {
        self.options = options
        itemSeparator = options.itemSeparator ?? (options.indent == nil ? ", " : ",")
        keySeparator = options.keySeparator ?? ": "
    }

    mutating func write(_ value: Value, level: Int) throws(JSONDumpError) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else {
                out += pythonFloatRepr(d)
            }
        case .string(let s), .markup(let s): writeString(s)
        case .list(let items), .tuple(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(level: level + 1)
                try write(item, level: level + 1)
            }
            newline(level: level)
            out += "]"
        case .dict(let dict):
            if dict.isEmpty { out += "{}"; return }
            var pairs: [(key: String, value: Value)] = []
            for (key, item) in dict { pairs.append((try jsonKey(key), item)) }
            if options.sortKeys { pairs.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } }
            out += "{"
            for (i, (key, item)) in pairs.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(level: level + 1)
                writeString(key)
                out += keySeparator
                try write(item, level: level + 1)
            }
            newline(level: level)
            out += "}"
        default:
            throw .notSerializable(typeName: value.typeName)
        }
    }

    /// Python's json turns str, int, float, bool and None keys into strings; others are errors.
    func jsonKey(_ key: Value) throws(JSONDumpError) -> String {
        switch key {
        case .string(let s), .markup(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : pythonFloatRepr(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        default: throw .invalidKey(typeName: key.typeName)
        }
    }

    mutating func newline(level: Int) {
        guard let indent = options.indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }

    /// Python's `json` string escaping: `"`, `\`, the short escapes, other control characters as
    /// `\u00XX`; with `ensure_ascii`, everything above U+007E as `\uXXXX` (surrogate pairs above
    /// U+FFFF).
    mutating func writeString(_ text: String) {
        var escaped = String.UnicodeScalarView()
        escaped.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": escaped.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": escaped.append(contentsOf: "\\n".unicodeScalars)
            case "\r": escaped.append(contentsOf: "\\r".unicodeScalars)
            case "\t": escaped.append(contentsOf: "\\t".unicodeScalars)
            case "\u{08}": escaped.append(contentsOf: "\\b".unicodeScalars)
            case "\u{0C}": escaped.append(contentsOf: "\\f".unicodeScalars)
            default:
                if scalar.value < 0x20 || (options.ensureASCII && scalar.value > 0x7E) {
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        appendUnicodeEscape(0xD800 + (v >> 10), to: &escaped)
                        appendUnicodeEscape(0xDC00 + (v & 0x3FF), to: &escaped)
                    } else {
                        appendUnicodeEscape(scalar.value, to: &escaped)
                    }
                } else {
                    escaped.append(scalar)
                }
            }
        }
        escaped.append("\"")
        out += String(escaped)
    }

    private func appendUnicodeEscape(_ code: UInt32, to escaped: inout String.UnicodeScalarView) {
        let hex = String(code, radix: 16)
        escaped.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
    }
}
