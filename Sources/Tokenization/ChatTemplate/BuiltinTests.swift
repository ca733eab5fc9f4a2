// jinja2's tests (`x is defined`, `x is string`, `x is divisibleby 3` …), with the Python type
// checks they stand for: `true is number` holds (bool is an int), a string is `iterable` and a
// `sequence`, and so is an undefined value.

/// Every test jinja2 3.1 has.
let jinjaTestNames: Set<String> = [
    "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "escaped", "even", "false", "filter", "float", "ge",
    "gt", "greaterthan", "in", "integer", "iterable", "le", "lower", "lessthan", "lt", "mapping", "ne", "none", "number",
    "odd", "sameas", "sequence", "string", "test", "true", "undefined", "upper", "==", "!=", ">", ">=", "<", "<=",
]

enum TestPredicate: String, Sendable {
    case boolean, callable, defined, divisibleby, equalto, escaped, even, `false`, float, ge, gt, `in`, integer
    case iterable, le, lower, lt, mapping, ne, none, number, odd, sameas, sequence, string, `true`, undefined, upper

    init?(name: String) {
        switch name {
        case "eq", "==": self = .equalto
        case "!=": self = .ne
        case "greaterthan", ">": self = .gt
        case ">=": self = .ge
        case "lessthan", "<": self = .lt
        case "<=": self = .le
        default: self.init(rawValue: name)
        }
    }
}

extension Interpreter {
    func applyTest(_ test: TestPredicate, to value: Value, _ args: CallArguments) throws(ChatTemplateError) -> Bool {
        let name = test.rawValue
        switch test {
        case .defined: _ = try args.bind(name, []); return !value.isUndefined
        case .undefined: _ = try args.bind(name, []); return value.isUndefined
        case .none: _ = try args.bind(name, []); return value.isNone
        case .boolean:
            _ = try args.bind(name, [])
            if case .bool = value { return true }
            return false
        case .true, .false:
            _ = try args.bind(name, [])
            if case .bool(let b) = value { return b == (test == .true) }
            return false
        case .integer:
            _ = try args.bind(name, [])
            if case .int = value { return true }
            return false
        case .float:
            _ = try args.bind(name, [])
            return value.isDoubleValue
        case .number:
            _ = try args.bind(name, [])
            return value.numeric != nil
        case .string:
            _ = try args.bind(name, [])
            return value.text != nil
        case .mapping:
            _ = try args.bind(name, [])
            if case .dict = value { return true }
            return false
        case .iterable:
            _ = try args.bind(name, [])
            switch value {
            case .undefined, .string, .markup, .list, .tuple, .dict, .iterator, .dictView: return true
            default: return false
            }
        case .sequence:
            _ = try args.bind(name, [])
            switch value {
            case .undefined, .string, .markup, .list, .tuple, .dict: return true
            default: return false
            }
        case .callable:
            _ = try args.bind(name, [])
            switch value {
            case .macro, .function, .boundMethod: return true
            default: return false
            }
        case .escaped:
            _ = try args.bind(name, [])
            return value.isMarkup
        case .lower, .upper:
            _ = try args.bind(name, [])
            let text = value.pythonString
            return test == .lower ? text.pythonIsLower() : text.pythonIsUpper()
        case .odd, .even:
            _ = try args.bind(name, [])
            guard case .int(let i)? = value.numeric, !value.isDoubleValue else {
                if case .undefined(let hint) = value { throw ChatTemplateError(hint) }
                throw ChatTemplateError("the '\(name)' test needs an integer, got \(value.typeName)")
            }
            return (i % 2 != 0) == (test == .odd)
        case .divisibleby:
            let a = try args.bind(name, ["num"])
            let divisor = try binary(.modulo, value, a[0] ?? .null)
            return divisor.pythonEquals(.int(0))
        case .equalto, .ne, .lt, .le, .gt, .ge, .in, .sameas:
            let a = try args.bind(name, ["other"])
            guard let other = a[0] else { throw ChatTemplateError("the '\(name)' test needs an argument") }
            switch test {
            case .equalto: return value.pythonEquals(other)
            case .ne: return !value.pythonEquals(other)
            case .in: return try contains(other, value)
            case .sameas:
                // Python's `is`: identity, which for templates means None, True and False.
                switch (value, other) {
                case (.null, .null): return true
                case (.bool(let x), .bool(let y)): return x == y
                case (.namespace(let x), .namespace(let y)): return x === y
                default: return false
                }
            default:
                let (left, right) = test == .lt || test == .le ? (value, other) : (other, value)
                guard let less = left.pythonLess(right) else {
                    throw ChatTemplateError("'\(test.rawValue)' not supported between instances of '\(value.typeName)' and '\(other.typeName)'")
                }
                return test == .lt || test == .gt ? less : less || left.pythonEquals(right)
            }
        }
    }
}
