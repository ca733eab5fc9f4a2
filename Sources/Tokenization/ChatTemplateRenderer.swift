import Foundation
import GGUF

/// A chat template (GGUF `tokenizer.chat_template`, Jinja) ready to render conversations.
///
/// Parsed once (at model load), rendered per request: the parsed form is immutable, and each
/// `render` call has its own interpreter state, so one value can be shared between threads.
/// Rendering reproduces HF transformers' `apply_chat_template(…, tokenize=False)` byte for byte
/// for the Jinja subset real templates use; anything outside it fails with
/// `ChatTemplateError.Kind.unsupported` (at parse time where possible) instead of rendering
/// something different.
public struct ChatTemplate: Sendable {
    public let source: String
    /// Filters and tests the template names inside `{% if %}` branches or `… if … else …` that
    /// this interpreter lacks. As in jinja2, the template still loads and renders; the error is
    /// thrown only when such a branch runs. Worth logging at model load.
    public let deferredErrors: [ChatTemplateError]
    /// Every variable name the template reads, globals (`tools`, `enable_thinking`,
    /// `date_string`, `bos_token`…) among its own locals: tells a caller whether the template
    /// renders tools at all, and which options it takes.
    public let referencedVariables: Set<String>
    private let body: [Statement]
    private let sourceMap: SourceMap

    /// Parses the template; throws when it is not valid Jinja or uses something the interpreter
    /// does not support, with line and column.
    public init(source: String) throws(ChatTemplateError) {
        self.source = source
        var lexer = Lexer(template: source)
        let tokens = try lexer.tokenize()
        var parser = Parser(tokens: tokens, sourceMap: lexer.sourceMap)
        body = try parser.parseTemplate()
        deferredErrors = parser.deferredErrors
        referencedVariables = NameCollector.names(in: body, includingNestedMacros: true)
        sourceMap = lexer.sourceMap
    }

    /// The template a GGUF file carries under `tokenizer.chat_template` (or
    /// `tokenizer.chat_template.<name>` for named variants such as `tool_use`); nil when absent.
    public init?(gguf file: GGUFFile, name: String? = nil) throws(ChatTemplateError) {
        let key = name.map { "tokenizer.chat_template.\($0)" } ?? "tokenizer.chat_template"
        guard let source = file.value(key)?.stringValue else { return nil }
        try self.init(source: source)
    }

    /// Renders `messages` (objects with `role`, `content`, optional `tool_calls`, `tool_call_id`,
    /// `name`…) the way HF transformers' `apply_chat_template` does:
    /// - message keys whose value is null are dropped (transformers does this so templates see
    ///   a missing key rather than `None`), and a message with `reasoning_content`, `thinking`
    ///   or `reasoning` gets the first non-null of them as both `thinking` and
    ///   `reasoning_content`;
    /// - the template sees `messages`, `tools` (null when nil), `documents` (null unless given in
    ///   `variables`), `add_generation_prompt`, and every entry of `variables` (special tokens
    ///   such as `bos_token` and `eos_token`, and template options such as `enable_thinking`,
    ///   `date_string`);
    /// - `strftime_now(format)` formats `now` in local time.
    ///
    /// Tool-call `arguments` should be objects, as transformers expects; pass an OpenAI-style
    /// JSON string through `TemplateValue(json:)` first.
    public func render(messages: [TemplateValue], tools: [TemplateValue]? = nil, addGenerationPrompt: Bool,
                       variables: [String: TemplateValue] = [:], now: Date = Date()) throws(ChatTemplateError) -> String {
        var globals: [String: Value] = ["documents": .null]
        for (name, value) in variables { globals[name] = Value(value) }
        globals["messages"] = .list(messages.map(Self.normalizedMessage))
        globals["tools"] = tools.map { .list($0.map(Value.init)) } ?? .null
        globals["add_generation_prompt"] = .bool(addGenerationPrompt)
        let interpreter = Interpreter(sourceMap: sourceMap, now: now)
        return try interpreter.render(body, globals: globals)
    }

    /// transformers' `_normalize_chat_messages` and `_alias_reasoning_fields`.
    private static func normalizedMessage(_ message: TemplateValue) -> Value {
        guard case .object(let pairs) = message else { return Value(message) }
        var dict = OrderedDict()
        for (key, value) in pairs where value != .null { dict[key] = Value(value) }
        let reasoningFields = ["reasoning_content", "thinking", "reasoning"]
        if let reasoning = reasoningFields.lazy.compactMap({ dict[$0] }).first {
            var aliased = OrderedDict([("thinking", reasoning)])
            for (key, value) in dict { aliased[key] = value }
            aliased["reasoning_content"] = reasoning
            dict = aliased
        }
        return .dict(dict)
    }
}

extension Value {
    init(_ value: TemplateValue) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .list(items.map(Value.init))
        case .object(let pairs): self = .dict(OrderedDict(pairs.map { ($0.0, Value($0.1)) }))
        }
    }
}
