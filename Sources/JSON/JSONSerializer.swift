/// Writes JSON text.
///
/// Serialization is done in Swift rather than through jansson: jansson prints reals with
/// `%.17g` (`0.1` becomes `0.10000000000000001`), or loses digits at lower precisions, while
/// Swift's `description` gives the shortest text that reads back to the same Double; and
/// building a jansson tree per streamed chunk would cost a malloc per value. Parsing stays on
/// jansson (positions in errors, UTF-8 validation, a nesting limit).
extension JSONValue {
    /// Compact UTF-8 JSON (no spaces), keys in object order. Non-finite numbers become `null`.
    public func serialized() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        JSONWriter.write(self, into: &output, indent: nil, depth: 0)
        return output
    }

    /// Compact JSON as a String.
    public var jsonText: String { String(decoding: serialized(), as: UTF8.self) }

    /// Indented JSON (two spaces per level), for files people read.
    public func prettyPrinted() -> String {
        var output: [UInt8] = []
        JSONWriter.write(self, into: &output, indent: 2, depth: 0)
        return String(decoding: output, as: UTF8.self)
    }
}

enum JSONWriter {
    static func write(_ value: JSONValue, into output: inout [UInt8], indent: Int?, depth: Int) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): output.append(contentsOf: String(number).utf8)
        case .double(let number):
            if number.isFinite {
                output.append(contentsOf: number.description.utf8)
            } else {
                output.append(contentsOf: "null".utf8)
            }
        case .string(let text): writeString(text, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(into: &output, indent: indent, depth: depth + 1)
                write(element, into: &output, indent: indent, depth: depth + 1)
            }
            if !elements.isEmpty { newline(into: &output, indent: indent, depth: depth) }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            for (position, entry) in object.entries.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(into: &output, indent: indent, depth: depth + 1)
                writeString(entry.key, into: &output)
                output.append(UInt8(ascii: ":"))
                if indent != nil { output.append(UInt8(ascii: " ")) }
                write(entry.value, into: &output, indent: indent, depth: depth + 1)
            }
            if !object.isEmpty { newline(into: &output, indent: indent, depth: depth) }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(into output: inout [UInt8], indent: Int?, depth: Int) {
        guard let indent else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * depth))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Quotes `text`, escaping `"`, `\` and control characters; everything else stays UTF-8.
    static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x00..<0x20, 0x7F:
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                           hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
