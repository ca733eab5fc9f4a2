import Foundation

// jinja2's built-in filters that chat templates use, plus HF's `tojson`. A filter outside this
// list fails at parse time with its position ("filter 'xmlattr' is not supported …").

/// Every filter jinja2 3.1 has (the ones missing from `Filter` are "unsupported"; any other
/// name is unknown to jinja2 too).
let jinjaFilterNames: Set<String> = [
    "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "filesizeformat",
    "first", "float", "forceescape", "format", "groupby", "indent", "int", "items", "join", "last", "length", "list",
    "lower", "map", "max", "min", "pprint", "random", "reject", "rejectattr", "replace", "reverse", "round", "safe",
    "select", "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "tojson", "trim", "truncate",
    "unique", "upper", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr",
]

enum Filter: String, Sendable {
    case abs, attr, capitalize, center, `default`, dictsort, escape, first, float, format, indent, int, items, join
    case last, length, list, lower, map, max, min, reject, rejectattr, replace, reverse, round, safe, select
    case selectattr, sort, string, sum, title, tojson, trim, unique, upper

    init?(name: String) {
        switch name {
        case "d": self = .default
        case "e": self = .escape
        case "count": self = .length
        default: self.init(rawValue: name)
        }
    }
}

extension Interpreter {
    func applyFilter(_ filter: Filter, to input: Value, _ args: CallArguments) throws(ChatTemplateError) -> Value {
        let name = filter.rawValue
        if case .markup = input {
            // markupsafe: these keep Markup; `format` is `Markup % args`; the rest see a plain str.
            switch filter {
            case .safe, .escape, .string:
                _ = try args.bind(name, [])
                return input
            case .trim, .upper, .lower, .capitalize, .center, .indent, .reverse:
                let result = try applyFilter(filter, to: input.demoted, args.demoted)
                return result.text.map(Value.markup) ?? result
            case .format:
                return try binary(.modulo, input, .tuple(args.positional))
            case .default:
                break
            default:
                return try applyFilter(filter, to: input.demoted, args)
            }
        }
        let value = input
        switch filter {
        case .abs:
            _ = try args.bind(name, [])
            switch value {
            case .int(let i): return .int(i == .min ? i : Swift.abs(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d): return .double(Swift.abs(d))
            default: throw ChatTemplateError("bad operand type for abs(): '\(value.typeName)'")
            }
        case .attr:
            let a = try args.bind(name, ["name"])
            guard let attributeName = a[0]?.text else { throw ChatTemplateError("attr() needs an attribute name") }
            return try attribute(attributeName, of: value)
        case .capitalize:
            _ = try args.bind(name, [])
            return .string(try renderedText(value).pythonCapitalize())
        case .center:
            let a = try args.bind(name, ["width"])
            return try stringMethod("center", try renderedText(value), CallArguments(positional: [a[0] ?? .int(80)]))
        case .default:
            let a = try args.bind(name, ["default_value", "boolean"])
            if value.isUndefined || ((a[1]?.isTruthy ?? false) && !value.isTruthy) { return a[0] ?? .string("") }
            return value
        case .dictsort:
            let a = try args.bind(name, ["case_sensitive", "by", "reverse"])
            guard case .dict(let dict) = value else { throw ChatTemplateError("dictsort expects a mapping, got \(value.typeName)") }
            let byValue: Bool
            switch a[1] {
            case nil, .string("key")?: byValue = false
            case .string("value")?: byValue = true
            default: throw ChatTemplateError("You can only sort by either \"key\" or \"value\"")
            }
            let pairs = dict.map { Value.tuple([$0.0, $0.1]) }
            let keys = dict.map { byValue ? $0.1 : $0.0 }
            return .list(try sorted(pairs, keys: keys, caseSensitive: a[0]?.isTruthy ?? false, reverse: a[2]?.isTruthy ?? false))
        case .escape:
            _ = try args.bind(name, [])
            _ = try renderedText(value)
            return value.escaped
        case .first:
            _ = try args.bind(name, [])
            if case .iterator(let iterator) = value { return iterator.next() ?? .undefined(hint: "No first item, sequence was empty.") }
            return try iterate(value).first ?? .undefined(hint: "No first item, sequence was empty.")
        case .last:
            _ = try args.bind(name, [])
            if case .iterator = value { throw ChatTemplateError("'\(value.typeName)' object is not reversible") }
            return try iterate(value).last ?? .undefined(hint: "No last item, sequence was empty.")
        case .float:
            let a = try args.bind(name, ["default"])
            if case .undefined(let hint) = value { throw ChatTemplateError(hint) }
            if let n = value.numeric { return .double(n.asDouble) }
            if case .string(let s) = value, let d = parsePythonFloat(s) { return .double(d) }
            return a[0] ?? .double(0)
        case .format:
            guard args.keyword.isEmpty else { throw ChatTemplateError("format filter keyword arguments are not supported", kind: .unsupported) }
            return try binary(.modulo, .string(try renderedText(value)), .tuple(args.positional))
        case .indent:
            let a = try args.bind(name, ["width", "first", "blank"])
            return .string(try indent(value, width: a[0], first: a[1]?.isTruthy ?? false, blank: a[2]?.isTruthy ?? false))
        case .int:
            let a = try args.bind(name, ["default", "base"])
            return try toInt(value, default: a[0] ?? .int(0), base: a[1])
        case .items:
            _ = try args.bind(name, [])
            switch value {
            case .undefined: return .iterator(IteratorState([]))
            case .dict(let dict): return .iterator(IteratorState(dict.map { .tuple([$0.0, $0.1]) }))
            default: throw ChatTemplateError("Can only get item pairs from a mapping.")
            }
        case .join:
            let a = try args.bind(name, ["d", "attribute"])
            var items = try iterate(value)
            if let attributeName = a[1], !attributeName.isNone {
                items = try items.map { (item) throws(ChatTemplateError) in try lookupPath(attributeName, in: item) }
            }
            var pieces: [String] = []
            for item in items { pieces.append(try renderedText(item)) }
            return .string(pieces.joined(separator: try renderedText(a[0] ?? .string(""))))
        case .length:
            _ = try args.bind(name, [])
            switch value {
            case .undefined: return .int(0)
            case .string(let s): return .int(s.scalarCount)
            case .list(let items), .tuple(let items): return .int(items.count)
            case .dict(let dict): return .int(dict.count)
            case .dictView(let view): return .int(view.items.count)
            default: throw ChatTemplateError("object of type '\(value.typeName)' has no len()")
            }
        case .list:
            _ = try args.bind(name, [])
            return .list(try iterate(value))
        case .lower:
            _ = try args.bind(name, [])
            return .string(try renderedText(value).pythonLower())
        case .upper:
            _ = try args.bind(name, [])
            return .string(try renderedText(value).pythonUpper())
        case .map:
            return .iterator(IteratorState(try map(value, args)))
        case .max, .min:
            let a = try args.bind(name, ["case_sensitive", "attribute"])
            let items = try iterate(value)
            guard !items.isEmpty else { return .undefined(hint: "No aggregated item, sequence was empty.") }
            var keys = items
            if let attributeName = a[1], !attributeName.isNone {
                keys = try items.map { (item) throws(ChatTemplateError) in try lookupPath(attributeName, in: item) }
            }
            if !(a[0]?.isTruthy ?? false) { keys = keys.map(ignoringCase) }
            var best = 0
            for i in 1..<items.count {
                guard let less = (filter == .max ? keys[best] : keys[i]).pythonLess(filter == .max ? keys[i] : keys[best]) else {
                    throw ChatTemplateError("'<' not supported between instances of '\(keys[i].typeName)' and '\(keys[best].typeName)'")
                }
                if less { best = i }
            }
            return items[best]
        case .reject, .select, .rejectattr, .selectattr:
            return .iterator(IteratorState(try selectOrReject(filter, value, args)))
        case .replace:
            let a = try args.bind(name, ["old", "new", "count"])
            guard let old = a[0], let new = a[1] else { throw ChatTemplateError("replace() needs 'old' and 'new'") }
            var count = -1
            if case .int(let c)? = a[2] { count = c }
            return .string(try renderedText(value).pythonReplace(old.pythonString, with: new.pythonString, count: count))
        case .reverse:
            _ = try args.bind(name, [])
            if case .string(let s) = value { return .string(String(scalars: s.unicodeScalars.reversed())) }
            if case .iterator = value { throw ChatTemplateError("'\(value.typeName)' object is not reversible") }
            let typeName = value.isDictValue ? "dict_reversekeyiterator" : "list_reverseiterator"
            return .iterator(IteratorState(try iterate(value).reversed(), typeName: typeName))
        case .round:
            let a = try args.bind(name, ["precision", "method"])
            var precision = 0
            if case .int(let p)? = a[0] { precision = p }
            let method = a[1]?.pythonString ?? "common"
            guard let n = value.numeric else { throw ChatTemplateError("round() needs a number, got \(value.typeName)") }
            if method == "common", case .int = n { return value }
            let scale = pow10(precision)
            let scaled = n.asDouble * scale
            switch method {
            case "common": return .double(scaled.rounded(.toNearestOrEven) / scale)
            case "ceil": return .double(scaled.rounded(.up) / scale)
            case "floor": return .double(scaled.rounded(.down) / scale)
            default: throw ChatTemplateError("method must be common, ceil or floor")
            }
        case .safe:
            _ = try args.bind(name, [])
            return .markup(try renderedText(value))
        case .string:
            _ = try args.bind(name, [])
            return .string(try renderedText(value))
        case .sort:
            let a = try args.bind(name, ["reverse", "case_sensitive", "attribute"])
            let items = try iterate(value)
            var keys = items
            if let attributeName = a[2], !attributeName.isNone {
                keys = try items.map { (item) throws(ChatTemplateError) in try lookupPath(attributeName, in: item) }
            }
            return .list(try sorted(items, keys: keys, caseSensitive: a[1]?.isTruthy ?? false, reverse: a[0]?.isTruthy ?? false))
        case .sum:
            let a = try args.bind(name, ["attribute", "start"])
            var total = a[1] ?? .int(0)
            for item in try iterate(value) {
                let term = a[0].map { $0.isNone ? item : (try? lookupPath($0, in: item)) ?? item } ?? item
                total = try binary(.add, total, term)
            }
            return total
        case .title:
            _ = try args.bind(name, [])
            return .string(try renderedText(value).jinjaTitle())
        case .tojson:
            let a = try args.bind(name, ["ensure_ascii", "indent", "separators", "sort_keys"])
            return .string(try toJSON(value, ensureASCII: a[0], indent: a[1], separators: a[2], sortKeys: a[3]))
        case .trim:
            let a = try args.bind(name, ["chars"])
            var chars: String? = nil
            if let c = a[0]?.text { chars = c }
            return .string(try renderedText(value).pythonStrip(chars))
        case .unique:
            let a = try args.bind(name, ["case_sensitive", "attribute"])
            var seen: [Value] = []
            var result: [Value] = []
            for item in try iterate(value) {
                var key = item
                if let attributeName = a[1], !attributeName.isNone { key = try lookupPath(attributeName, in: item) }
                if !(a[0]?.isTruthy ?? false) { key = ignoringCase(key) }
                switch key {
                case .list, .dict, .namespace: throw ChatTemplateError("unhashable type: '\(key.typeName)'")
                default: break
                }
                if !seen.contains(where: { $0.pythonEquals(key) }) {
                    seen.append(key)
                    result.append(item)
                }
            }
            return .iterator(IteratorState(result))
        }
    }
}
