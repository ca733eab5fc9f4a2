/// The markup around one tool call in the model's output, Qwen2.5's (and Hermes') form:
/// `<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>`, one
/// block per call. The generic fallback prompt asks for the same form.
enum ToolCallSyntax {
    static let open = "<tool_call>"
    static let close = "</tool_call>"
    static let openBytes = Array(open.utf8)
    static let closeBytes = Array(close.utf8)
}

/// What `ToolCallParser` finds in the output, in order. Concatenating every `.arguments`
/// fragment of a call gives its arguments text.
enum ToolCallEvent: Sendable, Equatable {
    /// Text outside tool calls (never empty, never markup of a well-formed call).
    case content(String)
    /// A call begins; `index` counts calls from 0.
    case callStarted(index: Int, name: String)
    /// More of the call's `arguments` JSON text.
    case arguments(index: Int, String)
}

/// A finished answer's content and calls, folded from `ToolCallEvent`s (the same fold for the
/// streamed and the whole answer, so both agree).
struct ToolCallTranscript: Sendable, Equatable {
    struct Call: Sendable, Equatable {
        var name: String
        var arguments: String
    }

    var content = ""
    var calls: [Call] = []

    mutating func apply(_ events: [ToolCallEvent]) {
        for event in events {
            switch event {
            case .content(let text): content += text
            case .callStarted(_, let name): calls.append(Call(name: name, arguments: ""))
            case .arguments(let index, let text): calls[index].arguments += text
            }
        }
    }

    /// Parses a whole answer.
    static func parse(_ text: String, parallelCalls: Bool) -> ToolCallTranscript {
        var parser = ToolCallParser(parallelCalls: parallelCalls)
        var transcript = ToolCallTranscript()
        transcript.apply(parser.push(text))
        transcript.apply(parser.finish())
        return transcript
    }
}

/// Tool-call ids: `call_` and 24 random letters and digits, as OpenAI's look.
enum ToolCallID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return "call_" + String((0..<24).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
