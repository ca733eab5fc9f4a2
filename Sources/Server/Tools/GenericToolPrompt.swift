import Tokenization

/// The tool prompt for chat templates that know nothing of tools (SmolLM2's, ChatML): the
/// conversation is rewritten into plain system/user/assistant messages the template can render.
///
/// - With tools, the system message (the first one, or a new one in front) gets a section that
///   lists each tool as JSON inside `<tools></tools>` and asks for calls as
///   `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>` (the Hermes/Qwen2.5 wording, so
///   `ToolCallParser` reads the answer).
/// - An assistant message's `tool_calls` become that same text after its content.
/// - `tool` messages become a user message of `<tool_response>\n…\n</tool_response>` blocks
///   (consecutive results share one message, as in Qwen2.5's template).
enum GenericToolPrompt {
    static func messages(_ messages: [TemplateValue], tools: [TemplateValue]) -> [TemplateValue] {
        var rewritten: [TemplateValue] = []
        rewritten.reserveCapacity(messages.count + 1)
        var pendingResults: [String] = []
        func flushResults() {
            guard !pendingResults.isEmpty else { return }
            rewritten.append(.object([("role", "user"), ("content", .string(pendingResults.joined(separator: "\n")))]))
            pendingResults.removeAll()
        }
        for message in messages {
            let role = message["role"]
            if role == "tool" {
                pendingResults.append("<tool_response>\n\(text(message["content"]))\n</tool_response>")
                continue
            }
            flushResults()
            if role == "assistant", case .array(let calls)? = message["tool_calls"] {
                var parts = [text(message["content"])].filter { !$0.isEmpty }
                parts += calls.map(callText)
                rewritten.append(replacing(message, content: parts.joined(separator: "\n"), dropping: ["tool_calls"]))
            } else {
                rewritten.append(message)
            }
        }
        flushResults()
        guard !tools.isEmpty else { return rewritten }
        let section = toolsSection(tools)
        if let first = rewritten.first, first["role"] == "system" {
            let content = text(first["content"])
            rewritten[0] = replacing(first, content: content.isEmpty ? section : content + "\n\n" + section, dropping: [])
        } else {
            rewritten.insert(.object([("role", "system"), ("content", .string(section))]), at: 0)
        }
        return rewritten
    }

    /// The system-prompt section describing the tools and the call syntax.
    static func toolsSection(_ tools: [TemplateValue]) -> String {
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
            + tools.map(\.pythonJSON).joined(separator: "\n")
            + "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
            + "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>"
    }

    /// One call as the model is asked to write it.
    static func callText(_ call: TemplateValue) -> String {
        let function = call["function"] ?? call
        let name = function["name"] ?? .string("")
        let arguments = function["arguments"] ?? .object([])
        return "\(ToolCallSyntax.open)\n{\"name\": \(name.pythonJSON), \"arguments\": \(arguments.pythonJSON)}\n\(ToolCallSyntax.close)"
    }

    private static func text(_ value: TemplateValue?) -> String {
        if case .string(let text)? = value { return text }
        return ""
    }

    private static func replacing(_ message: TemplateValue, content: String, dropping: Set<String>) -> TemplateValue {
        guard case .object(var entries) = message else { return message }
        entries.removeAll { dropping.contains($0.0) }
        if let index = entries.firstIndex(where: { $0.0 == "content" }) {
            entries[index].1 = .string(content)
        } else {
            entries.append(("content", .string(content)))
        }
        return .object(entries)
    }
}
