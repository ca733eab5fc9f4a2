// Runtime values of the template interpreter, with Python's semantics where templates rely on
// them: truthiness, equality, ordering. Text conversion (`str`, `repr`) is in PythonFormatting.swift.

/// A value while a template renders. Lists, tuples and dicts are values (HF's sandbox forbids
/// mutating them); namespaces and iterators are objects shared by reference, as in jinja2.
enum Value {
    /// jinja2's default `Undefined`: renders empty, is falsy, iterates as empty; most other uses
    /// raise. `hint` says what was missing, for that error.
    case undefined(hint: String)
    /// Python's `None`.
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// markupsafe's `Markup` (from the `safe` and `escape` filters): a string that HTML-escapes
    /// plain strings joined to it with `+`, `%`, `join` and `format`.
    case markup(String)
    case list([Value])
    case tuple([Value])
    case dict(OrderedDict)
    /// A one-shot Python iterator: what jinja2's `map`, `select`, `selectattr`, `reject`,
    /// `rejectattr`, `unique`, `items` and `reverse` return. Always truthy, has no length,
    /// cannot be serialized, is consumed by iterating.
    case iterator(IteratorState)
    /// `dict.keys()`, `.values()`, `.items()`: iterable again and again, with a length, printed
    /// as `dict_items([...])`, not serializable.
    case dictView(DictView)
    case namespace(Namespace)
    case macro(Macro)
    case function(BuiltinFunction)
    case boundMethod(BoundMethod)
    case loop(LoopContext)

    static func undefined(name: String) -> Value { .undefined(hint: "'\(name)' is undefined") }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    var isNone: Bool {
        if case .null = self { return true }
        return false
    }

    /// The text of a `str` or `Markup`.
    var text: String? {
        switch self {
        case .string(let s), .markup(let s): return s
        default: return nil
        }
    }

    /// Markup as its plain string; everything else unchanged. For operations where Markup
    /// behaves as any `str`.
    var demoted: Value {
        if case .markup(let s) = self { return .string(s) }
        return self
    }

    /// Python's `bool(x)`.
    var isTruthy: Bool {
        switch self {
        case .undefined, .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s), .markup(let s): return !s.isEmpty
        case .list(let items), .tuple(let items): return !items.isEmpty
        case .dict(let dict): return !dict.isEmpty
        case .dictView(let view): return !view.items.isEmpty
        case .iterator, .namespace, .macro, .function, .boundMethod, .loop: return true
        }
    }

    /// Python's type name, for error messages (`'dict object' has no attribute …`).
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .null: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .markup: return "Markup"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .iterator(let iterator): return iterator.typeName
        case .dictView(let view): return view.kind.rawValue
        case .namespace: return "Namespace"
        case .macro: return "Macro"
        case .function, .boundMethod: return "builtin_function_or_method"
        case .loop: return "LoopContext"
        }
    }

    /// The number when the value is an `int`, `float` or `bool` (Python treats bools as ints).
    var numeric: Numeric? {
        switch self {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        default: return nil
        }
    }

    enum Numeric {
        case int(Int)
        case double(Double)
        var asDouble: Double {
            switch self {
            case .int(let i): return Double(i)
            case .double(let d): return d
            }
        }
    }
}

// MARK: - Equality and ordering

extension Value {
    /// Python's `==`: numbers across int/float/bool, strings by code points (not Swift's
    /// canonical equivalence; Markup equals its text), lists and tuples element-wise (a list
    /// never equals a tuple), dicts regardless of key order. jinja2's Undefined equals only
    /// another Undefined; objects equal only themselves.
    func pythonEquals(_ other: Value) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.null, .null): return true
        case (.string(let a), .string(let b)), (.markup(let a), .markup(let b)), (.string(let a), .markup(let b)),
             (.markup(let a), .string(let b)):
            return a.pythonEquals(b)
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.pythonEquals($1) }
        case (.dict(let a), .dict(let b)):
            guard a.count == b.count else { return false }
            for (key, value) in a where !(b[key]?.pythonEquals(value) ?? false) { return false }
            return true
        case (.iterator(let a), .iterator(let b)): return a === b
        case (.dictView(let a), .dictView(let b)):
            // Keys and items views compare as sets; values views only by identity.
            guard a.kind == b.kind, a.kind != .values, a.items.count == b.items.count else { return false }
            return a.items.allSatisfy { x in b.items.contains { $0.pythonEquals(x) } }
        case (.namespace(let a), .namespace(let b)): return a === b
        case (.macro(let a), .macro(let b)): return a === b
        case (.loop(let a), .loop(let b)): return a === b
        default:
            if let x = numeric, let y = other.numeric {
                switch (x, y) {
                case (.int(let i), .int(let j)): return i == j
                default: return x.asDouble == y.asDouble
                }
            }
            return false
        }
    }

    /// Python's `<`, or nil when Python would raise `TypeError` (e.g. `1 < 'a'`).
    func pythonLess(_ other: Value) -> Bool? {
        if let a = text, let b = other.text {
            // UTF-8 byte order is code point order.
            return a.utf8.lexicographicallyPrecedes(b.utf8)
        }
        switch (self, other) {
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            for (x, y) in zip(a, b) where !x.pythonEquals(y) { return x.pythonLess(y) }
            return a.count < b.count
        default:
            guard let x = numeric, let y = other.numeric else { return nil }
            switch (x, y) {
            case (.int(let i), .int(let j)): return i < j
            default: return x.asDouble < y.asDouble
            }
        }
    }

    /// Whether Python could use the value as a dict key.
    var isHashable: Bool {
        switch self {
        case .list, .dict, .undefined: return false
        case .tuple(let items): return items.allSatisfy(\.isHashable)
        default: return true
        }
    }
}

extension String {
    /// Python string equality: the same code points. Swift's `==` would also equate canonically
    /// equivalent strings ("é" and "e\u{301}"), which Python does not.
    func pythonEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count && utf8.elementsEqual(other.utf8)
    }
}

// MARK: - Containers

/// A Python dict in insertion order (templates iterate and `tojson` objects in order). Keys are
/// values (strings almost always; `{0: …}` literals exist); `1`, `1.0` and `True` are the same
/// key, as in Python. Lookups are linear: template dicts are small (messages, tool schemas).
struct OrderedDict: Sequence {
    private(set) var keys: [Value] = []
    private(set) var values: [Value] = []

    init() {}

    init(_ pairs: [(String, Value)]) {
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }

    func index(of key: Value) -> Int? {
        if let text = key.text { return index(of: text) }
        return keys.firstIndex { $0.pythonEquals(key) }
    }

    func index(of key: String) -> Int? {
        let keyCount = key.utf8.count
        for (i, candidate) in keys.enumerated() {
            if let text = candidate.text, text.utf8.count == keyCount, text.pythonEquals(key) { return i }
        }
        return nil
    }

    /// Setting an existing key keeps its position (Python semantics).
    subscript(key: Value) -> Value? {
        get { index(of: key).map { values[$0] } }
        set {
            if let i = index(of: key) {
                if let newValue { values[i] = newValue } else { keys.remove(at: i); values.remove(at: i) }
            } else if let newValue {
                keys.append(key.demoted)
                values.append(newValue)
            }
        }
    }

    subscript(key: String) -> Value? {
        get { index(of: key).map { values[$0] } }
        set { self[.string(key)] = newValue }
    }

    func makeIterator() -> Zip2Sequence<[Value], [Value]>.Iterator { zip(keys, values).makeIterator() }
}

/// jinja2's `namespace(...)`: the one mutable object templates have (`{% set ns.x = … %}`).
final class Namespace {
    var attributes: OrderedDict
    init(_ attributes: OrderedDict) { self.attributes = attributes }
}

/// A snapshot of a dict view (the sandbox's dicts never change, so a snapshot is exact).
struct DictView {
    enum Kind: String { case keys = "dict_keys", values = "dict_values", items = "dict_items" }
    let kind: Kind
    let items: [Value]

    init(_ kind: Kind, of dict: OrderedDict) {
        self.kind = kind
        switch kind {
        case .keys: items = dict.keys
        case .values: items = dict.values
        case .items: items = dict.map { .tuple([$0.0, $0.1]) }
        }
    }
}

/// The state of a one-shot iterator (see `Value.iterator`).
final class IteratorState {
    let items: [Value]
    var position = 0
    /// Python's type name: "generator", "list_reverseiterator"…
    let typeName: String

    init(_ items: [Value], typeName: String = "generator") {
        self.items = items
        self.typeName = typeName
    }

    /// The items not consumed yet; consumes them.
    func drain() -> [Value] {
        defer { position = items.count }
        return position == 0 ? items : Array(items[position...])
    }

    func next() -> Value? {
        guard position < items.count else { return nil }
        defer { position += 1 }
        return items[position]
    }
}

/// A `{% macro %}` bound to the scope it was defined in.
final class Macro {
    let definition: MacroDefinition
    let scope: Scope
    init(definition: MacroDefinition, scope: Scope) {
        self.definition = definition
        self.scope = scope
    }
}

/// A method looked up on a value (`message.content.strip`), called later.
final class BoundMethod {
    let receiver: Value
    let name: String
    init(receiver: Value, name: String) {
        self.receiver = receiver
        self.name = name
    }
}

/// The `loop` variable of a `{% for %}` body.
final class LoopContext {
    let items: [Value]
    var index0 = 0
    init(items: [Value]) { self.items = items }
}

/// Global functions templates call.
enum BuiltinFunction: String {
    case range, namespace, dict
    case raiseException = "raise_exception"
    case strftimeNow = "strftime_now"
}

/// markupsafe's `escape` for text.
func htmlEscape(_ text: String) -> String {
    guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
    var out = ""
    for s in text.unicodeScalars {
        switch s {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&#34;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(s)
        }
    }
    return out
}

extension Value {
    /// markupsafe's `escape(x)`: Markup stays as it is, anything else is `str`-ed and escaped.
    var escaped: Value {
        if case .markup = self { return self }
        return .markup(htmlEscape(pythonString))
    }
}
