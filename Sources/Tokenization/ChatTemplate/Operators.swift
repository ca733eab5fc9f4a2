import Foundation

// Arithmetic with Python's semantics: int stays int (overflow is an error, not a wrap), `/`
// is true division, `//` and `%` floor toward negative infinity, `+` concatenates strings and
// lists, `*` repeats them, `%` on a string is printf-style formatting.

extension Interpreter {
    func negate(_ value: Value) throws(ChatTemplateError) -> Value {
        switch value {
        case .undefined(let hint): throw ChatTemplateError(hint)
        case .double(let d): return .double(-d)
        default:
            guard case .int(let i)? = value.numeric else {
                throw ChatTemplateError("bad operand type for unary -: '\(value.typeName)'")
            }
            let (result, overflow) = Int(0).subtractingReportingOverflow(i)
            guard !overflow else { throw ChatTemplateError("integer overflow") }
            return .int(result)
        }
    }

    func binary(_ op: BinaryOperator, _ left: Value, _ right: Value) throws(ChatTemplateError) -> Value {
        if case .undefined(let hint) = left { throw ChatTemplateError(hint) }
        if case .undefined(let hint) = right { throw ChatTemplateError(hint) }
        if left.isMarkup || right.isMarkup, let result = try markupBinary(op, left, right) { return result }
        let left = left.demoted
        let right = right.demoted
        switch (op, left, right) {
        case (.add, .string(let a), .string(let b)): return .string(a + b)
        case (.add, .list(let a), .list(let b)): return .list(a + b)
        case (.add, .tuple(let a), .tuple(let b)): return .tuple(a + b)
        case (.multiply, .string(let s), _), (.multiply, _, .string(let s)):
            guard case .int(let count)? = (left.isString ? right : left).numeric else { break }
            try checkRepetition(s.utf8.count, count)
            return .string(String(repeating: s, count: max(count, 0)))
        case (.multiply, .list(let items), _), (.multiply, _, .list(let items)):
            guard case .int(let count)? = (left.isList ? right : left).numeric else { break }
            try checkRepetition(items.count, count)
            return .list(Array(repeating: items, count: max(count, 0)).flatMap { $0 })
        case (.modulo, .string(let format), _):
            return .string(try percentFormat(format, right))
        default:
            break
        }
        guard let a = left.numeric, let b = right.numeric else {
            throw ChatTemplateError("unsupported operand type(s) for \(op.rawValue): '\(left.typeName)' and '\(right.typeName)'")
        }
        if case .int(let x) = a, case .int(let y) = b { return try integerArithmetic(op, x, y) }
        return try floatArithmetic(op, a.asDouble, b.asDouble)
    }

    /// `'-' * n` is fine; a template asking for gigabytes is refused instead of exhausting memory.
    private func checkRepetition(_ size: Int, _ count: Int) throws(ChatTemplateError) {
        guard count <= 0 || size <= 0 || size <= 64 * 1024 * 1024 / count else {
            throw ChatTemplateError("repetition result too large (\(size) × \(count))")
        }
    }

    /// markupsafe's operators: `Markup + str` and `str + Markup` escape the plain string,
    /// `Markup % args` escapes the arguments; the result is Markup.
    private func markupBinary(_ op: BinaryOperator, _ left: Value, _ right: Value) throws(ChatTemplateError) -> Value? {
        switch op {
        case .add:
            guard let a = left.escaped.text, let b = right.escaped.text, left.text != nil, right.text != nil else { return nil }
            return .markup(a + b)
        case .multiply:
            guard let result = try? binary(.multiply, left.demoted, right.demoted), let text = result.text else { return nil }
            return .markup(text)
        case .modulo:
            guard case .markup(let format) = left else { return nil }
            func escape(_ v: Value) -> Value { v.numeric != nil ? v : .string(v.escaped.text!) }
            let arguments: Value
            if case .tuple(let items) = right { arguments = .tuple(items.map(escape)) } else { arguments = escape(right) }
            return .markup(try percentFormat(format, arguments))
        default:
            return nil
        }
    }

    private func integerArithmetic(_ op: BinaryOperator, _ x: Int, _ y: Int) throws(ChatTemplateError) -> Value {
        func checked(_ r: (partialValue: Int, overflow: Bool)) throws(ChatTemplateError) -> Value {
            guard !r.overflow else { throw ChatTemplateError("integer overflow in \(x) \(op.rawValue) \(y)") }
            return .int(r.partialValue)
        }
        switch op {
        case .add: return try checked(x.addingReportingOverflow(y))
        case .subtract: return try checked(x.subtractingReportingOverflow(y))
        case .multiply: return try checked(x.multipliedReportingOverflow(by: y))
        case .divide:
            guard y != 0 else { throw ChatTemplateError("division by zero") }
            return .double(Double(x) / Double(y))
        case .floorDivide, .modulo:
            guard y != 0 else { throw ChatTemplateError("integer division or modulo by zero") }
            guard !(x == .min && y == -1) else { throw ChatTemplateError("integer overflow in \(x) \(op.rawValue) \(y)") }
            var quotient = x / y
            var remainder = x % y
            if remainder != 0 && ((remainder < 0) != (y < 0)) {
                quotient -= 1
                remainder += y
            }
            return .int(op == .floorDivide ? quotient : remainder)
        case .power:
            if y < 0 { return .double(pow(Double(x), Double(y))) }
            var result = 1
            var base = x
            var exponent = y
            while exponent > 0 {
                if exponent & 1 == 1 {
                    let r = result.multipliedReportingOverflow(by: base)
                    guard !r.overflow else { throw ChatTemplateError("integer overflow in \(x) ** \(y)") }
                    result = r.partialValue
                }
                exponent >>= 1
                if exponent > 0 {
                    let r = base.multipliedReportingOverflow(by: base)
                    guard !r.overflow else { throw ChatTemplateError("integer overflow in \(x) ** \(y)") }
                    base = r.partialValue
                }
            }
            return .int(result)
        }
    }

    private func floatArithmetic(_ op: BinaryOperator, _ x: Double, _ y: Double) throws(ChatTemplateError) -> Value {
        switch op {
        case .add: return .double(x + y)
        case .subtract: return .double(x - y)
        case .multiply: return .double(x * y)
        case .divide:
            guard y != 0 else { throw ChatTemplateError("float division by zero") }
            return .double(x / y)
        case .floorDivide, .modulo:
            guard y != 0 else { throw ChatTemplateError("float floor division or modulo by zero") }
            // Python's float_divmod.
            var remainder = fmod(x, y)
            var quotient = (x - remainder) / y
            if remainder != 0 {
                if (y < 0) != (remainder < 0) {
                    remainder += y
                    quotient -= 1
                }
            } else {
                remainder = copysign(0, y)
            }
            var floored = quotient.rounded(.down)
            if quotient - floored > 0.5 { floored += 1 }
            return .double(op == .floorDivide ? (quotient == 0 ? copysign(0, x / y) : floored) : remainder)
        case .power:
            return .double(pow(x, y))
        }
    }

    /// `'%s: %d' % (a, b)`: conversions s, r, d, i, f, %, with `-` / `0` flags, width and
    /// precision.
    private func percentFormat(_ format: String, _ arguments: Value) throws(ChatTemplateError) -> String {
        var values: [Value]
        if case .tuple(let items) = arguments { values = items } else { values = [arguments] }
        var out = ""
        var scalars = Array(format.unicodeScalars)[...]
        func number(_ scalars: inout ArraySlice<Unicode.Scalar>) -> Int? {
            var digits = ""
            while let c = scalars.first, ("0"..."9").contains(c) { digits.unicodeScalars.append(c); scalars.removeFirst() }
            return Int(digits)
        }
        while let s = scalars.popFirst() {
            guard s == "%" else { out.unicodeScalars.append(s); continue }
            var leftAlign = false
            var zeroPad = false
            while let c = scalars.first, c == "-" || c == "0" {
                if c == "-" { leftAlign = true } else { zeroPad = true }
                scalars.removeFirst()
            }
            let width = number(&scalars) ?? 0
            var precision: Int? = nil
            if scalars.first == "." {
                scalars.removeFirst()
                precision = number(&scalars) ?? 0
            }
            guard let conversion = scalars.popFirst() else { throw ChatTemplateError("incomplete format") }
            if conversion == "%" { out += "%"; continue }
            guard !values.isEmpty else { throw ChatTemplateError("not enough arguments for format string") }
            let value = values.removeFirst()
            var text: String
            switch conversion {
            case "s": text = value.pythonString
            case "r": text = value.pythonRepr
            case "d", "i", "f":
                guard let n = value.numeric else {
                    throw ChatTemplateError("%\(conversion) format: a real number is required, not \(value.typeName)")
                }
                if conversion == "f" {
                    text = String(format: "%.\(precision ?? 6)f", n.asDouble)
                } else if case .int(let i) = n {
                    text = String(i)
                } else {
                    text = String(Int(n.asDouble.rounded(.towardZero)))
                }
            default:
                throw ChatTemplateError("format conversion '%\(conversion)' is not supported", kind: .unsupported)
            }
            if conversion == "s" || conversion == "r", let precision { text = String(scalars: text.unicodeScalars.prefix(precision)) }
            let padCount = width - text.scalarCount
            if padCount > 0 {
                if leftAlign {
                    text += String(repeating: " ", count: padCount)
                } else if zeroPad && conversion != "s" && conversion != "r" {
                    let negative = text.hasPrefix("-")
                    text = (negative ? "-" : "") + String(repeating: "0", count: padCount) + text.dropFirst(negative ? 1 : 0)
                } else {
                    text = String(repeating: " ", count: padCount) + text
                }
            }
            out += text
        }
        guard values.isEmpty else { throw ChatTemplateError("not all arguments converted during string formatting") }
        return out
    }
}

extension Value {
    var isString: Bool {
        if case .string = self { return true }
        return false
    }

    var isList: Bool {
        if case .list = self { return true }
        return false
    }
}
