import Foundation

// The larger pieces behind filters: attribute paths, Python's stable sort, map/select, indent,
// int conversion, tojson options.

extension Interpreter {
    /// jinja2's `make_attrgetter`: `"a.b.0"` looks up each part as an item (numbers as indices).
    func lookupPath(_ path: Value, in item: Value) throws(ChatTemplateError) -> Value {
        guard let text = path.text else { return try self.item(path, of: item) }
        var current = item
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            let key: Value = Int(part).map { .int($0) } ?? .string(String(part))
            current = try self.item(key, of: current)
        }
        return current
    }

    func ignoringCase(_ value: Value) -> Value {
        if case .string(let s) = value { return .string(s.pythonLower()) }
        return value
    }

    /// Python's `sorted(items, key=…, reverse=…)`: stable in both directions.
    func sorted(_ items: [Value], keys: [Value], caseSensitive: Bool, reverse: Bool) throws(ChatTemplateError) -> [Value] {
        let keys = caseSensitive ? keys : keys.map(ignoringCase)
        // Check every key against the first so the comparator below cannot hit a TypeError.
        if let first = keys.first {
            for key in keys where key.pythonLess(first) == nil {
                throw ChatTemplateError("'<' not supported between instances of '\(key.typeName)' and '\(first.typeName)'")
            }
        }
        let order = keys.indices.sorted { i, j in
            let less = reverse ? keys[j].pythonLess(keys[i]) ?? false : keys[i].pythonLess(keys[j]) ?? false
            let greater = reverse ? keys[i].pythonLess(keys[j]) ?? false : keys[j].pythonLess(keys[i]) ?? false
            return less || (!greater && i < j)
        }
        return order.map { items[$0] }
    }

    func map(_ value: Value, _ args: CallArguments) throws(ChatTemplateError) -> [Value] {
        guard value.isTruthy else { return [] }
        let items = try iterate(value)
        if args.positional.isEmpty, let attributeName = args.keyword.first(where: { $0.name == "attribute" })?.value {
            let defaultValue = args.keyword.first { $0.name == "default" }?.value
            if args.keyword.contains(where: { $0.name != "attribute" && $0.name != "default" }) {
                throw ChatTemplateError("Unexpected keyword argument for map()")
            }
            return try items.map { (item) throws(ChatTemplateError) in
                let found = try lookupPath(attributeName, in: item)
                if let defaultValue, found.isUndefined { return defaultValue }
                return found
            }
        }
        guard let filterName = args.positional.first?.text else { throw ChatTemplateError("map requires a filter argument") }
        guard let filter = Filter(name: filterName) else {
            throw ChatTemplateError("filter '\(filterName)' is not supported by this chat template interpreter", kind: .unsupported)
        }
        let rest = CallArguments(positional: Array(args.positional.dropFirst()), keyword: args.keyword)
        return try items.map { (item) throws(ChatTemplateError) in try applyFilter(filter, to: item, rest) }
    }

    func selectOrReject(_ filter: Filter, _ value: Value, _ args: CallArguments) throws(ChatTemplateError) -> [Value] {
        guard value.isTruthy else { return [] }
        let byAttribute = filter == .selectattr || filter == .rejectattr
        let keep = filter == .select || filter == .selectattr
        var positional = args.positional[...]
        var attributeName: Value? = nil
        if byAttribute {
            guard let first = positional.popFirst() else { throw ChatTemplateError("\(filter.rawValue) needs an attribute name") }
            attributeName = first
        }
        var test: TestPredicate? = nil
        if let testName = positional.popFirst() {
            guard let n = testName.text, let t = TestPredicate(name: n) else {
                throw ChatTemplateError("test \(testName.pythonRepr) is not supported by this chat template interpreter",
                                        kind: .unsupported)
            }
            test = t
        }
        let testArgs = CallArguments(positional: Array(positional), keyword: args.keyword)
        var result: [Value] = []
        for item in try iterate(value) {
            let subject = try attributeName.map { (path) throws(ChatTemplateError) in try lookupPath(path, in: item) } ?? item
            let passed = try test.map { (t) throws(ChatTemplateError) in try applyTest(t, to: subject, testArgs) } ?? subject.isTruthy
            if passed == keep { result.append(item) }
        }
        return result
    }

    /// jinja2's `do_indent` (3.x): the first line is not indented unless `first`, blank lines
    /// not unless `blank`.
    func indent(_ value: Value, width: Value?, first: Bool, blank: Bool) throws(ChatTemplateError) -> String {
        guard case .string(let text) = value else {
            throw ChatTemplateError("indent expects a string, got \(value.typeName)")
        }
        let indentation: String
        switch width {
        case nil: indentation = "    "
        case .string(let s)?: indentation = s
        case .int(let n)?: indentation = String(repeating: " ", count: max(n, 0))
        default: throw ChatTemplateError("indent width must be an integer or a string")
        }
        let lines = try stringMethod("splitlines", text + "\n", CallArguments()).listItems.map(\.pythonString)
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.first ?? ""
            if lines.count > 1 {
                result += "\n" + lines.dropFirst().map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        return first ? indentation + result : result
    }

    func toInt(_ value: Value, default defaultValue: Value, base: Value?) throws(ChatTemplateError) -> Value {
        switch value {
        case .undefined(let hint): throw ChatTemplateError(hint)
        case .int: return value
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d):
            guard d.isFinite, let i = Int(exactly: d.rounded(.towardZero)) else { return defaultValue }
            return .int(i)
        case .string(let s):
            var radix = 10
            if case .int(let b)? = base { radix = b }
            var text = s.pythonStrip(nil).replacingOccurrences(of: "_", with: "")
            if radix == 16 && (text.hasPrefix("0x") || text.hasPrefix("0X")) { text.removeFirst(2) }
            if let i = Int(text, radix: radix) { return .int(i) }
            if let d = parsePythonFloat(s), d.isFinite, let i = Int(exactly: d.rounded(.towardZero)) { return .int(i) }
            return defaultValue
        default:
            return defaultValue
        }
    }

    func toJSON(_ value: Value, ensureASCII: Value?, indent: Value?, separators: Value?, sortKeys: Value?)
        throws(ChatTemplateError) -> String
    {
        var options = JSONDumpOptions()
        options.ensureASCII = ensureASCII?.isTruthy ?? false
        options.sortKeys = sortKeys?.isTruthy ?? false
        switch indent {
        case nil, .null?: break
        case .string(let s)?: options.indent = s
        case .int(let n)?: options.indent = String(repeating: " ", count: max(n, 0))
        default: throw ChatTemplateError("tojson indent must be an integer or a string")
        }
        switch separators {
        case nil, .null?: break
        case .list(let pair)?, .tuple(let pair)?:
            guard pair.count == 2, case .string(let item) = pair[0], case .string(let key) = pair[1] else {
                throw ChatTemplateError("tojson separators must be a pair of strings")
            }
            options.itemSeparator = item
            options.keySeparator = key
        default: throw ChatTemplateError("tojson separators must be a pair of strings")
        }
        do {
            return try pythonJSONDumps(value, options: options)
        } catch {
            throw ChatTemplateError(error.message)
        }
    }
}

extension Value {
    var listItems: [Value] {
        switch self {
        case .list(let items), .tuple(let items): return items
        default: return []
        }
    }
}

/// Python's `float(str)`: surrounding whitespace, `_` between digits, inf/nan spellings.
func parsePythonFloat(_ text: String) -> Double? {
    let trimmed = text.pythonStrip(nil)
    guard !trimmed.isEmpty, !trimmed.hasPrefix("0x"), !trimmed.hasPrefix("0X") else { return nil }
    switch trimmed.lowercased() {
    case "inf", "+inf", "infinity", "+infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    case "nan", "+nan", "-nan": return .nan
    default: break
    }
    guard trimmed.unicodeScalars.allSatisfy({ "0123456789+-.eE_".unicodeScalars.contains($0) }) else { return nil }
    return Double(trimmed.replacingOccurrences(of: "_", with: ""))
}

func pow10(_ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<Swift.abs(exponent) { result *= 10 }
    return exponent < 0 ? 1 / result : result
}
