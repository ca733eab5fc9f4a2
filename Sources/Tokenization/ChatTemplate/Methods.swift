// Attribute access, subscripts, slices and the Python methods templates call on strings, dicts
// and lists, with the rules of HF's `ImmutableSandboxedEnvironment`: `x.name` tries the Python
// attribute then the item, `x[key]` the item then the attribute; a missing one is undefined;
// methods that mutate lists and dicts are off limits.

/// Python `str` methods this interpreter implements.
private let stringMethods: Set<String> = [
    "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit", "splitlines", "replace", "upper",
    "lower", "title", "capitalize", "swapcase", "find", "rfind", "index", "rindex", "count", "join", "format",
    "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "islower", "isupper", "removeprefix",
    "removesuffix", "partition", "rpartition", "center", "ljust", "rjust", "zfill", "casefold",
]

/// The rest of Python's `str` attributes: using one is an "unsupported" error, never a silent
/// undefined.
private let otherStringAttributes: Set<String> = [
    "encode", "expandtabs", "format_map", "isascii", "isidentifier", "isprintable", "istitle", "maketrans",
    "translate",
]

private let dictMethods: Set<String> = ["get", "items", "keys", "values", "copy"]
private let unsafeDictMethods: Set<String> = ["clear", "pop", "popitem", "setdefault", "update", "fromkeys"]
private let listMethods: Set<String> = ["count", "index", "copy"]
private let unsafeListMethods: Set<String> = ["append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"]

extension Interpreter {
    /// `value.name`
    func attribute(_ name: String, of value: Value) throws(ChatTemplateError) -> Value {
        switch value {
        case .undefined(let hint):
            throw ChatTemplateError(hint)
        case .dict(let dict):
            if dictMethods.contains(name) { return .boundMethod(BoundMethod(receiver: value, name: name)) }
            if unsafeDictMethods.contains(name) { return unsafe(name, value) }
            return dict[name] ?? .undefined(hint: "'dict object' has no attribute '\(name)'")
        case .string, .markup:
            if stringMethods.contains(name) { return .boundMethod(BoundMethod(receiver: value, name: name)) }
            if otherStringAttributes.contains(name) {
                throw ChatTemplateError("the string method '\(name)' is not supported by this chat template interpreter",
                                        kind: .unsupported)
            }
            return .undefined(hint: "'str object' has no attribute '\(name)'")
        case .list, .tuple:
            if listMethods.contains(name) && !(name == "copy" && !value.isList) {
                return .boundMethod(BoundMethod(receiver: value, name: name))
            }
            if value.isList && unsafeListMethods.contains(name) { return unsafe(name, value) }
            return .undefined(hint: "'\(value.typeName) object' has no attribute '\(name)'")
        case .namespace(let namespace):
            return namespace.attributes[name] ?? .undefined(hint: "'Namespace object' has no attribute '\(name)'")
        case .loop(let loop):
            return loopAttribute(name, loop)
        default:
            return .undefined(hint: "'\(value.typeName) object' has no attribute '\(name)'")
        }
    }

    private func unsafe(_ name: String, _ value: Value) -> Value {
        .undefined(hint: "access to attribute '\(name)' of '\(value.typeName)' object is unsafe (chat templates cannot modify lists or dicts)")
    }

    /// `value[key]`
    func item(_ key: Value, of value: Value) throws(ChatTemplateError) -> Value {
        switch value {
        case .undefined(let hint):
            throw ChatTemplateError(hint)
        case .dict(let dict):
            if let found = dict[key] { return found }
            if let name = key.text, dictMethods.contains(name) { return .boundMethod(BoundMethod(receiver: value, name: name)) }
            return .undefined(hint: "'dict object' has no attribute \(key.pythonRepr)")
        case .list(let items), .tuple(let items):
            guard case .int(let index)? = key.numeric, !key.isDoubleValue else {
                if let name = key.text { return try attribute(name, of: value) }
                return .undefined(hint: "'\(value.typeName) object' has no attribute \(key.pythonRepr)")
            }
            let resolved = index < 0 ? items.count + index : index
            guard resolved >= 0 && resolved < items.count else {
                return .undefined(hint: "\(value.typeName) index \(index) out of range")
            }
            return items[resolved]
        case .string(let text), .markup(let text):
            guard case .int(let index)? = key.numeric, !key.isDoubleValue else {
                if let name = key.text { return try attribute(name, of: value) }
                return .undefined(hint: "'str object' has no attribute \(key.pythonRepr)")
            }
            let scalars = text.unicodeScalars
            let count = scalars.count
            let resolved = index < 0 ? count + index : index
            guard resolved >= 0 && resolved < count else { return .undefined(hint: "string index \(index) out of range") }
            let character = String(scalars[scalars.index(scalars.startIndex, offsetBy: resolved)])
            return value.isMarkup ? .markup(character) : .string(character)
        case .namespace, .loop:
            if let name = key.text { return try attribute(name, of: value) }
            return .undefined(hint: "'\(value.typeName) object' has no attribute \(key.pythonRepr)")
        default:
            return .undefined(hint: "'\(value.typeName) object' is not subscriptable")
        }
    }

    /// `value[start:stop:step]` with Python's clamping and negative steps.
    func slice(_ value: Value, start: Int?, stop: Int?, step: Int?) throws(ChatTemplateError) -> Value {
        let step = step ?? 1
        guard step != 0 else { throw ChatTemplateError("slice step cannot be zero") }
        func indices(_ count: Int) -> [Int] {
            func clamp(_ i: Int?, _ defaultValue: Int, low: Int, high: Int) -> Int {
                guard var i else { return defaultValue }
                if i < 0 { i += count }
                return min(max(i, low), high)
            }
            var result: [Int] = []
            if step > 0 {
                var i = clamp(start, 0, low: 0, high: count)
                let end = clamp(stop, count, low: 0, high: count)
                while i < end { result.append(i); i += step }
            } else {
                var i = clamp(start, count - 1, low: -1, high: count - 1)
                let end = clamp(stop, -1, low: -1, high: count - 1)
                while i > end { result.append(i); i += step }
            }
            return result
        }
        switch value {
        case .list(let items): return .list(indices(items.count).map { items[$0] })
        case .tuple(let items): return .tuple(indices(items.count).map { items[$0] })
        case .string(let text), .markup(let text):
            let scalars = Array(text.unicodeScalars)
            let sliced = String(scalars: indices(scalars.count).map { scalars[$0] })
            return value.isMarkup ? .markup(sliced) : .string(sliced)
        case .undefined(let hint): throw ChatTemplateError(hint)
        default: throw ChatTemplateError("'\(value.typeName)' object is not subscriptable")
        }
    }

    private func loopAttribute(_ name: String, _ loop: LoopContext) -> Value {
        let count = loop.items.count
        switch name {
        case "index": return .int(loop.index0 + 1)
        case "index0": return .int(loop.index0)
        case "revindex": return .int(count - loop.index0)
        case "revindex0": return .int(count - loop.index0 - 1)
        case "first": return .bool(loop.index0 == 0)
        case "last": return .bool(loop.index0 == count - 1)
        case "length": return .int(count)
        // Only recursive loops (not supported) nest depth; every other loop is at depth 1.
        case "depth": return .int(1)
        case "depth0": return .int(0)
        case "previtem":
            return loop.index0 > 0 ? loop.items[loop.index0 - 1] : .undefined(hint: "there is no previous item")
        case "nextitem":
            return loop.index0 + 1 < count ? loop.items[loop.index0 + 1] : .undefined(hint: "there is no next item")
        case "cycle": return .boundMethod(BoundMethod(receiver: .loop(loop), name: name))
        default: return .undefined(hint: "'LoopContext object' has no attribute '\(name)'")
        }
    }

    // MARK: - Method calls

    /// Calls `receiver.name(args)` when it is a method this interpreter implements; nil otherwise
    /// (the caller then falls back to attribute lookup, which may be a macro in a namespace).
    func callMethod(_ name: String, on receiver: Value, _ args: CallArguments) throws(ChatTemplateError) -> Value? {
        switch receiver {
        case .string(let text):
            guard stringMethods.contains(name) else { return nil }
            return try stringMethod(name, text, args.demoted)
        case .markup(let text):
            guard stringMethods.contains(name) else { return nil }
            return try markupMethod(name, text, args)
        case .dict(let dict):
            guard dictMethods.contains(name) else { return nil }
            switch name {
            case "get":
                let a = try args.bind("get", ["key", "default"])
                guard let key = a[0] else { throw ChatTemplateError("get() expected at least 1 argument, got 0") }
                guard key.isHashable else { throw ChatTemplateError("unhashable type: '\(key.typeName)'") }
                return dict[key] ?? a[1] ?? .null
            case "items":
                _ = try args.bind("items", [])
                return .dictView(DictView(.items, of: dict))
            case "keys":
                _ = try args.bind("keys", [])
                return .dictView(DictView(.keys, of: dict))
            case "values":
                _ = try args.bind("values", [])
                return .dictView(DictView(.values, of: dict))
            default:
                _ = try args.bind("copy", [])
                return receiver
            }
        case .list(let items), .tuple(let items):
            guard listMethods.contains(name) else { return nil }
            switch name {
            case "count":
                let a = try args.bind("count", ["value"])
                return .int(items.filter { $0.pythonEquals(a[0] ?? .null) }.count)
            case "index":
                let a = try args.bind("index", ["value"])
                guard let i = items.firstIndex(where: { $0.pythonEquals(a[0] ?? .null) }) else {
                    throw ChatTemplateError("\((a[0] ?? .null).pythonRepr) is not in list")
                }
                return .int(i)
            default:
                return receiver
            }
        case .loop(let loop) where name == "cycle":
            guard !args.positional.isEmpty else { throw ChatTemplateError("no items for cycling given") }
            return args.positional[loop.index0 % args.positional.count]
        default:
            return nil
        }
    }
}

extension Value {
    var isDictValue: Bool {
        if case .dict = self { return true }
        return false
    }

    var isMarkup: Bool {
        if case .markup = self { return true }
        return false
    }

    var isDoubleValue: Bool {
        if case .double = self { return true }
        return false
    }
}
