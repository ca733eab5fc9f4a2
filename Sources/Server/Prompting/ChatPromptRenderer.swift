import Engine
import Tokenization

/// Turns a conversation into prompt text. The server uses `ModelTemplateRenderer` (the model's
/// Jinja template); tests substitute a fixed format.
public protocol ChatPromptRenderer: Sendable {
    /// `messages` as `ChatMessages` built them; `variables` holds `bos_token` and `eos_token`.
    func render(messages: [TemplateValue], variables: [String: TemplateValue],
                service: any GenerationService) throws(ChatTemplateError) -> String
}

/// Renders with the model's own chat template (GGUF `tokenizer.chat_template`), or ChatML when
/// the model has none (llama.cpp's fallback too).
public struct ModelTemplateRenderer: ChatPromptRenderer {
    public init() {}

    public func render(messages: [TemplateValue], variables: [String: TemplateValue],
                       service: any GenerationService) throws(ChatTemplateError) -> String {
        let template: ChatTemplate
        if let own = service.chatTemplate {
            template = own
        } else {
            template = try ChatTemplate(source: Self.chatMLSource)
        }
        return try template.render(messages: messages, tools: nil, addGenerationPrompt: true, variables: variables)
    }

    /// ChatML, as llama.cpp and transformers use when a model ships no template.
    public static let chatMLSource = """
        {%- for message in messages -%}\
        {{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}\
        {%- endfor -%}\
        {%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}
        """
}
