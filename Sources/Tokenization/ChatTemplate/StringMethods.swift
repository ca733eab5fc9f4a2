// Python `str` methods (`content.strip()`, `text.split('</think>')`, `'{}'.format(x)` …).

extension Interpreter {
    func stringMethod(_ name: String, _ text: String, _ args: CallArguments) throws(ChatTemplateError) -> Value {
        switch name {
        case "strip", "lstrip", "rstrip":
            let a = try args.bind(name, ["chars"])
            let chars = try optionalString(a[0], name)
            return .string(text.pythonStrip(chars, leading: name != "rstrip", trailing: name != "lstrip"))
        case "startswith", "endswith":
            let a = try args.bind(name, ["prefix", "start", "end"])
            guard a[1] == nil && a[2] == nil else {
                throw ChatTemplateError("\(name)() with start/end positions is not supported", kind: .unsupported)
            }
            var candidates: [Value]
            switch a[0] {
            case .string(let s)?: candidates = [.string(s)]
            case .tuple(let items)?: candidates = items
            default: throw ChatTemplateError("\(name) first arg must be str or a tuple of str")
            }
            for candidate in candidates {
                guard case .string(let affix) = candidate else { throw ChatTemplateError("\(name) first arg must be str or a tuple of str") }
                if name == "startswith" ? text.pythonHasPrefix(affix) : text.pythonHasSuffix(affix) { return .bool(true) }
            }
            return .bool(false)
        case "split", "rsplit":
            let a = try args.bind(name, ["sep", "maxsplit"])
            let separator = try optionalString(a[0], name)
            let maxSplit = try optionalInt(a[1], name) ?? -1
            if separator?.isEmpty == true { throw ChatTemplateError("empty separator") }
            if name == "rsplit", let separator { return .list(text.pythonRSplit(separator, maxSplit: maxSplit).map { .string($0) }) }
            if name == "rsplit" && maxSplit >= 0 {
                throw ChatTemplateError("rsplit() on whitespace with maxsplit is not supported", kind: .unsupported)
            }
            return .list(text.pythonSplit(separator, maxSplit: maxSplit).map { .string($0) })
        case "splitlines":
            let a = try args.bind(name, ["keepends"])
            return .list(splitLines(text, keepEnds: a[0]?.isTruthy ?? false).map { .string($0) })
        case "replace":
            let a = try args.bind(name, ["old", "new", "count"])
            guard case .string(let old)? = a[0], case .string(let new)? = a[1] else {
                throw ChatTemplateError("replace() arguments must be strings")
            }
            return .string(text.pythonReplace(old, with: new, count: try optionalInt(a[2], name) ?? -1))
        case "upper": _ = try args.bind(name, []); return .string(text.pythonUpper())
        case "lower", "casefold": _ = try args.bind(name, []); return .string(text.pythonLower())
        case "title": _ = try args.bind(name, []); return .string(text.pythonTitle())
        case "capitalize": _ = try args.bind(name, []); return .string(text.pythonCapitalize())
        case "swapcase":
            _ = try args.bind(name, [])
            var out = ""
            for s in text.unicodeScalars {
                out += s.properties.isUppercase ? s.properties.lowercaseMapping
                    : s.properties.isLowercase ? s.properties.uppercaseMapping : String(s)
            }
            return .string(out)
        case "find", "rfind", "index", "rindex", "count":
            let a = try args.bind(name, ["sub", "start", "end"])
            guard case .string(let needle)? = a[0] else { throw ChatTemplateError("\(name)() argument must be str") }
            guard a[1] == nil && a[2] == nil else {
                throw ChatTemplateError("\(name)() with start/end positions is not supported", kind: .unsupported)
            }
            if name == "count" { return .int(text.pythonCount(needle)) }
            let byteOffset = name.hasPrefix("r") ? text.pythonFindLast(needle) : text.pythonFind(needle)
            guard let byteOffset else {
                if name.hasSuffix("index") { throw ChatTemplateError("substring not found") }
                return .int(-1)
            }
            // Code point index of the byte offset.
            return .int(String(decoding: Array(text.utf8)[..<byteOffset], as: UTF8.self).scalarCount)
        case "join":
            let a = try args.bind(name, ["iterable"])
            var pieces: [String] = []
            for item in try iterate(a[0] ?? .null) {
                guard let s = item.text else {
                    throw ChatTemplateError("sequence item \(pieces.count): expected str instance, \(item.typeName) found")
                }
                pieces.append(s)
            }
            return .string(pieces.joined(separator: text))
        case "format":
            return .string(try pythonFormat(text, args))
        case "isdigit", "isdecimal", "isnumeric":
            _ = try args.bind(name, [])
            return .bool(text.pythonAll(isPythonDigit))
        case "isalpha": _ = try args.bind(name, []); return .bool(text.pythonAll(isPythonAlpha))
        case "isalnum": _ = try args.bind(name, []); return .bool(text.pythonAll { isPythonAlpha($0) || isPythonDigit($0) })
        case "isspace": _ = try args.bind(name, []); return .bool(text.pythonAll(isPythonWhitespace))
        case "islower": _ = try args.bind(name, []); return .bool(text.pythonIsLower())
        case "isupper": _ = try args.bind(name, []); return .bool(text.pythonIsUpper())
        case "removeprefix", "removesuffix":
            let a = try args.bind(name, ["affix"])
            guard case .string(let affix)? = a[0] else { throw ChatTemplateError("\(name)() argument must be str") }
            let bytes = Array(text.utf8)
            if name == "removeprefix", text.pythonHasPrefix(affix) {
                return .string(String(decoding: bytes[affix.utf8.count...], as: UTF8.self))
            }
            if name == "removesuffix", !affix.isEmpty, text.pythonHasSuffix(affix) {
                return .string(String(decoding: bytes[..<(bytes.count - affix.utf8.count)], as: UTF8.self))
            }
            return .string(text)
        case "partition", "rpartition":
            let a = try args.bind(name, ["sep"])
            guard case .string(let separator)? = a[0], !separator.isEmpty else { throw ChatTemplateError("empty separator") }
            let pieces = name == "partition" ? text.pythonSplit(separator, maxSplit: 1) : text.pythonRSplit(separator, maxSplit: 1)
            if pieces.count == 2 { return .tuple([.string(pieces[0]), .string(separator), .string(pieces[1])]) }
            return name == "partition" ? .tuple([.string(text), .string(""), .string("")])
                : .tuple([.string(""), .string(""), .string(text)])
        case "center", "ljust", "rjust", "zfill":
            let a = try args.bind(name, name == "zfill" ? ["width"] : ["width", "fillchar"])
            let width = try optionalInt(a[0], name) ?? 0
            let fill = try optionalString(a.count > 1 ? a[1] : nil, name) ?? (name == "zfill" ? "0" : " ")
            let missing = width - text.scalarCount
            guard missing > 0 else { return .string(text) }
            switch name {
            case "ljust": return .string(text + String(repeating: fill, count: missing))
            case "rjust": return .string(String(repeating: fill, count: missing) + text)
            case "zfill":
                let sign = text.hasPrefix("-") || text.hasPrefix("+") ? String(text.prefix(1)) : ""
                return .string(sign + String(repeating: "0", count: missing) + text.dropFirst(sign.count))
            default:
                // Python puts the extra character on the right unless width and length are both odd.
                let left = missing / 2 + (missing & width & 1)
                return .string(String(repeating: fill, count: left) + text + String(repeating: fill, count: missing - left))
            }
        default:
            throw ChatTemplateError("the string method '\(name)' is not supported", kind: .unsupported)
        }
    }

    private func optionalString(_ value: Value?, _ function: String) throws(ChatTemplateError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw ChatTemplateError("\(function)() argument must be str or None, not \(value!.typeName)")
        }
    }

    private func optionalInt(_ value: Value?, _ function: String) throws(ChatTemplateError) -> Int? {
        switch value {
        case nil, .null?: return nil
        case .int(let i)?: return i
        case .bool(let b)?: return b ? 1 : 0
        default: throw ChatTemplateError("\(function)() argument must be an integer, not \(value!.typeName)")
        }
    }

    /// `str.splitlines()`: \n, \r, \r\n and the other Unicode line boundaries.
    private func splitLines(_ text: String, keepEnds: Bool) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var scalars = Array(text.unicodeScalars)[...]
        while let s = scalars.popFirst() {
            switch s.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                if keepEnds { current.append(s) }
                if s == "\r" && scalars.first == "\n" {
                    scalars.removeFirst()
                    if keepEnds { current.append("\n") }
                }
                lines.append(String(current))
                current = String.UnicodeScalarView()
            default:
                current.append(s)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    /// `str.format`: `{}`, `{0}`, `{name}`, `{{` / `}}`; format specs and conversions are not
    /// supported (an error, not a wrong render).
    private func pythonFormat(_ format: String, _ args: CallArguments) throws(ChatTemplateError) -> String {
        var out = ""
        var automatic = 0
        var scalars = Array(format.unicodeScalars)[...]
        while let s = scalars.popFirst() {
            if s == "}" {
                guard scalars.popFirst() == "}" else { throw ChatTemplateError("Single '}' encountered in format string") }
                out += "}"
                continue
            }
            guard s == "{" else { out.unicodeScalars.append(s); continue }
            if scalars.first == "{" {
                scalars.removeFirst()
                out += "{"
                continue
            }
            var field = ""
            while let c = scalars.popFirst(), c != "}" { field.unicodeScalars.append(c) }
            if field.contains(":") || field.contains("!") || field.contains(".") || field.contains("[") {
                throw ChatTemplateError("format field '{\(field)}' is not supported (only {}, {0} and {name})", kind: .unsupported)
            }
            let value: Value?
            if field.isEmpty {
                value = automatic < args.positional.count ? args.positional[automatic] : nil
                automatic += 1
            } else if let index = Int(field) {
                value = index < args.positional.count ? args.positional[index] : nil
            } else {
                value = args.keyword.first { $0.name == field }?.value
            }
            guard let value else { throw ChatTemplateError("format field '{\(field)}' has no matching argument") }
            out += value.pythonString
        }
        return out
    }
}

/// markupsafe's `Markup` methods that return Markup and escape their string arguments first.
private let markupEscapingMethods: Set<String> = [
    "capitalize", "title", "lower", "upper", "replace", "ljust", "rjust", "lstrip", "rstrip", "center", "strip", "swapcase",
    "zfill", "casefold", "removeprefix", "removesuffix",
]

extension CallArguments {
    /// Markup arguments as plain strings (what `str` methods see).
    var demoted: CallArguments {
        CallArguments(positional: positional.map(\.demoted), keyword: keyword.map { ($0.name, $0.value.demoted) })
    }

    /// String arguments HTML-escaped, as markupsafe does before calling a `str` method.
    var escapingStrings: CallArguments {
        func escape(_ v: Value) -> Value { v.text != nil ? .string(v.escaped.text!) : v }
        return CallArguments(positional: positional.map(escape), keyword: keyword.map { ($0.name, escape($0.value)) })
    }
}

extension Interpreter {
    /// A `str` method called on Markup, with markupsafe's escaping and result types.
    func markupMethod(_ name: String, _ text: String, _ args: CallArguments) throws(ChatTemplateError) -> Value {
        switch name {
        case "join":
            let a = try args.bind(name, ["iterable"])
            let pieces = try iterate(a[0] ?? .null).map { $0.escaped.text! }
            return .markup(pieces.joined(separator: text))
        case "format":
            var escaped = CallArguments()
            escaped.positional = args.positional.map { $0.numeric != nil ? $0 : .string($0.escaped.text!) }
            escaped.keyword = args.keyword.map { ($0.name, $0.value.numeric != nil ? $0.value : .string($0.value.escaped.text!)) }
            return .markup(try stringMethod(name, text, escaped).text!)
        case "split", "rsplit", "splitlines":
            return .list(try stringMethod(name, text, args.demoted).listItems.map { .markup($0.text!) })
        case "partition", "rpartition":
            return .tuple(try stringMethod(name, text, args.escapingStrings).listItems.map { .markup($0.text!) })
        default:
            if markupEscapingMethods.contains(name) {
                return .markup(try stringMethod(name, text, args.escapingStrings).text!)
            }
            return try stringMethod(name, text, args.demoted)
        }
    }
}
