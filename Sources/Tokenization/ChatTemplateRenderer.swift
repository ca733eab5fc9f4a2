// PLACEHOLDER until the Jinja interpreter lands (Sources/Tokenization/ChatTemplate/).

/// A chat template (GGUF `tokenizer.chat_template`, Jinja) ready to render conversations.
public struct ChatTemplate: Sendable {
    public let source: String

    /// Parses the template; throws when it uses syntax the interpreter does not support.
    public init(source: String) throws(ChatTemplateError) {
        self.source = source
        throw ChatTemplateError("chat templates are not implemented yet")
    }

    /// Renders `messages` (objects with `role`, `content`, optional `tool_calls`, `tool_call_id`,
    /// `name`) the way HF transformers' `apply_chat_template` does. `variables` adds globals such
    /// as `bos_token`, `eos_token`; `tools` is passed as `tools` when non-nil.
    public func render(messages: [TemplateValue], tools: [TemplateValue]? = nil, addGenerationPrompt: Bool,
                       variables: [String: TemplateValue] = [:]) throws(ChatTemplateError) -> String {
        throw ChatTemplateError("chat templates are not implemented yet")
    }
}
