// How values become text, byte for byte as Python does it: `str(x)` for `{{ x }}`, `~` and the
// `string` filter; `repr(x)` for items inside rendered lists and dicts; float `repr`.

extension Value {
    /// Python's `str(x)` as jinja2 renders it (`Undefined` renders empty).
    var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let s), .markup(let s): return s
        default:
            var out = ""
            writeRepr(to: &out, topLevel: true)
            return out
        }
    }

    /// Python's `repr(x)`.
    var pythonRepr: String {
        var out = ""
        writeRepr(to: &out, topLevel: false)
        return out
    }

    /// `topLevel` distinguishes `str` (strings as-is) from `repr` (strings quoted) for the
    /// outermost value; nested values always use `repr`, as Python's containers do.
    private func writeRepr(to out: inout String, topLevel: Bool) {
        switch self {
        case .undefined: out += topLevel ? "" : "Undefined"
        case .null: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let i): out += String(i)
        case .double(let d): out += pythonFloatRepr(d)
        case .string(let s): if topLevel { out += s } else { out += pythonStringRepr(s) }
        case .markup(let s): if topLevel { out += s } else { out += "Markup(" + pythonStringRepr(s) + ")" }
        case .list(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                item.writeRepr(to: &out, topLevel: false)
            }
            out += "]"
        case .tuple(let items):
            out += "("
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                item.writeRepr(to: &out, topLevel: false)
            }
            out += items.count == 1 ? ",)" : ")"
        case .dict(let dict):
            out += "{"
            for (i, (key, value)) in dict.enumerated() {
                if i > 0 { out += ", " }
                key.writeRepr(to: &out, topLevel: false)
                out += ": "
                value.writeRepr(to: &out, topLevel: false)
            }
            out += "}"
        case .namespace(let namespace):
            out += "<Namespace "
            Value.dict(namespace.attributes).writeRepr(to: &out, topLevel: false)
            out += ">"
        case .iterator(let iterator): out += "<\(iterator.typeName) object>"
        case .dictView(let view):
            out += view.kind.rawValue + "("
            Value.list(view.items).writeRepr(to: &out, topLevel: false)
            out += ")"
        case .macro(let macro): out += "<Macro '\(macro.definition.name)'>"
        case .function(let function): out += "<built-in function \(function.rawValue)>"
        case .boundMethod(let method): out += "<built-in method \(method.name) of \(method.receiver.typeName) object>"
        case .loop(let loop): out += "<LoopContext \(loop.index0 + 1)/\(loop.items.count)>"
        }
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation when the
/// decimal exponent is in [-4, 16), else scientific with a two-digit minimum exponent.
func pythonFloatRepr(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    // Swift's description already has the shortest round-trip digits; only its layout differs
    // from Python's (Swift switches to exponents at 2^53, Python at 1e16).
    let (negative, digits, exponent) = decomposeShortest(value)
    var out = negative ? "-" : ""
    if exponent >= -4 && exponent < 16 {
        if exponent < 0 {
            out += "0." + String(repeating: "0", count: -exponent - 1) + digits
        } else if digits.count > exponent + 1 {
            let split = digits.index(digits.startIndex, offsetBy: exponent + 1)
            out += digits[..<split] + "." + digits[split...]
        } else {
            out += digits + String(repeating: "0", count: exponent + 1 - digits.count) + ".0"
        }
    } else {
        out += String(digits.first!)
        if digits.count > 1 { out += "." + digits.dropFirst() }
        out += exponent < 0 ? "e-" : "e+"
        let magnitude = String(abs(exponent))
        out += magnitude.count < 2 ? "0" + magnitude : magnitude
    }
    return out
}

/// Splits a finite double into sign, significant digits (no leading/trailing zeros, "0" for
/// zero) and the decimal exponent of the first digit.
private func decomposeShortest(_ value: Double) -> (negative: Bool, digits: String, exponent: Int) {
    let negative = value.sign == .minus
    var text = Substring(value.magnitude.description)
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        exponent = Int(text[text.index(after: e)...]) ?? 0
        text = text[..<e]
    }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    let integerPart = parts[0]
    let fractionPart = parts.count > 1 ? parts[1] : ""
    var digits = String(integerPart) + fractionPart
    var pointPosition = integerPart.count + exponent  // digits before the decimal point
    while digits.count > 1 && digits.first == "0" {
        digits.removeFirst()
        pointPosition -= 1
    }
    while digits.count > 1 && digits.last == "0" { digits.removeLast() }
    if digits == "0" { return (negative, "0", 0) }
    return (negative, digits, pointPosition - 1)
}

/// Python's `repr(str)`: single quotes unless the text has a single quote and no double quote;
/// backslash escapes for the quote, backslash, `\n`, `\r`, `\t` and non-printable characters.
func pythonStringRepr(_ text: String) -> String {
    let hasSingle = text.utf8.contains(UInt8(ascii: "'"))
    let hasDouble = text.utf8.contains(UInt8(ascii: "\""))
    let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
    var out = String.UnicodeScalarView()
    out.append(quote)
    for scalar in text.unicodeScalars {
        switch scalar {
        case quote, "\\": out.append("\\"); out.append(scalar)
        case "\n": out.append(contentsOf: "\\n".unicodeScalars)
        case "\r": out.append(contentsOf: "\\r".unicodeScalars)
        case "\t": out.append(contentsOf: "\\t".unicodeScalars)
        default:
            if isPythonPrintable(scalar) {
                out.append(scalar)
            } else {
                let hex = String(scalar.value, radix: 16)
                let (prefix, width) = scalar.value < 0x100 ? ("\\x", 2) : scalar.value < 0x10000 ? ("\\u", 4) : ("\\U", 8)
                out.append(contentsOf: (prefix + String(repeating: "0", count: width - hex.count) + hex).unicodeScalars)
            }
        }
    }
    out.append(quote)
    return String(out)
}

/// Python's `str.isprintable()` for one character: everything except the categories Cc, Cf,
/// Cs, Co, Cn, Zl, Zp and Zs (the ASCII space excepted).
func isPythonPrintable(_ scalar: Unicode.Scalar) -> Bool {
    if scalar == " " { return true }
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
        return false
    default:
        return true
    }
}
