// Public types of the chat-template renderer; the Jinja interpreter lives in ChatTemplate/.

/// A JSON-like value passed into templates (messages, tools, extra variables).
///
/// Templates see these with Python semantics, as transformers passes them to jinja2: objects
/// are dicts in insertion order, `.int` and `.double` stay distinct (`1` renders "1", `1.0`
/// renders "1.0"), `.null` is `None`.
public indirect enum TemplateValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    /// Keys keep their insertion order (templates iterate and `tojson` objects in order).
    case object([(String, TemplateValue)])

    public static func == (a: TemplateValue, b: TemplateValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value of `key` when this is an object.
    public subscript(key: String) -> TemplateValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    /// Dictionary literals keep their written order.
    public init(dictionaryLiteral elements: (String, TemplateValue)...) { self = .object(elements) }
    public init(nilLiteral: ()) { self = .null }
}

/// Errors from parsing or rendering a template, with the position and a plain explanation.
public struct ChatTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The template is not valid Jinja (jinja2 would reject it too).
        case syntax
        /// Valid Jinja that this interpreter does not implement (a filter, a statement, a method):
        /// rejected rather than rendered differently from transformers.
        case unsupported
        /// The template called `raise_exception(message)`; `message` is the template's text.
        case raised
        /// Rendering failed as it would in jinja2 (an undefined value used, a type error …).
        case runtime
    }

    public var kind: Kind
    public var message: String
    /// 1-based position in the template source (columns count code points), when known.
    public var line: Int?
    public var column: Int?

    public init(_ message: String, kind: Kind = .runtime, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        var text = "chat template"
        if let line { text += " line \(line)" + (column.map { ", column \($0)" } ?? "") }
        switch kind {
        case .syntax: text += ": syntax error: "
        case .unsupported: text += ": unsupported: "
        case .raised: text += " raised an exception: "
        case .runtime: text += ": "
        }
        return text + message
    }
}
