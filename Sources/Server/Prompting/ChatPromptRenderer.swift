import Engine
import Tokenization

/// Turns a conversation into prompt text. The server uses `ModelTemplateRenderer` (the model's
/// Jinja template); tests substitute a fixed format.
public protocol ChatPromptRenderer: Sendable {
    /// `messages` as `ChatMessages` built them; `tools` the request's tool definitions (nil when
    /// none); `variables` holds `bos_token` and `eos_token`.
    func render(messages: [TemplateValue], tools: [TemplateValue]?, variables: [String: TemplateValue],
                service: any GenerationService) throws(ChatTemplateError) -> String
}

/// Renders with the model's own chat template (GGUF `tokenizer.chat_template`), or ChatML when
/// the model has none (llama.cpp's fallback too).
///
/// A template that reads `tools` (Qwen2.5's, Llama 3.1's…) renders the tools, the assistant
/// `tool_calls` and the `tool` messages itself. Any other template (SmolLM2's, ChatML) gets
/// `GenericToolPrompt`'s rewrite: the tools listed in the system message, calls and results
/// written as text in the `<tool_call>` syntax the output parser reads.
public struct ModelTemplateRenderer: ChatPromptRenderer {
    public init() {}

    public func render(messages: [TemplateValue], tools: [TemplateValue]?, variables: [String: TemplateValue],
                       service: any GenerationService) throws(ChatTemplateError) -> String {
        let template: ChatTemplate
        if let own = service.chatTemplate {
            template = own
        } else {
            template = try ChatTemplate(source: Self.chatMLSource)
        }
        if template.referencedVariables.contains("tools") {
            return try template.render(messages: messages, tools: tools, addGenerationPrompt: true, variables: variables)
        }
        let rewritten = GenericToolPrompt.messages(messages, tools: tools ?? [])
        return try template.render(messages: rewritten, tools: nil, addGenerationPrompt: true, variables: variables)
    }

    /// ChatML, as llama.cpp and transformers use when a model ships no template.
    public static let chatMLSource = """
        {%- for message in messages -%}\
        {{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}\
        {%- endfor -%}\
        {%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}
        """
}
