import Engine
import JSON
import Tokenization

/// Prompt token ids for both endpoints, and the context-length check made before anything is
/// submitted (so a streaming request still gets a plain 400).
public enum PromptTokens {
    /// Renders the conversation with the model's template and tokenizes it (`ChatPrompt`).
    public static func chat(messages: [TemplateValue], tools: [TemplateValue]? = nil, service: any GenerationService,
                            renderer: any ChatPromptRenderer) throws(APIError) -> [Int32] {
        let tokenizer = service.tokenizer
        let text: String
        do {
            text = try renderer.render(messages: messages, tools: tools, variables: ChatPrompt.variables(for: tokenizer), service: service)
        } catch {
            throw APIError.invalidValue("messages", "The model's chat template rejected the conversation: \(error.message)")
        }
        return ChatPrompt.tokens(rendered: text, tokenizer: tokenizer)
    }

    /// Refuses prompts that leave no room: the prompt alone must leave one token to generate
    /// (none needed when `maxTokens` is 0), and an explicit `maxTokens` must fit beside it.
    static func checkContext(promptCount: Int, maxTokens: Int?, contextLength: Int, param: String) throws(APIError) {
        let fits: Bool
        if let maxTokens {
            fits = promptCount + maxTokens <= contextLength
        } else {
            fits = promptCount < contextLength
        }
        guard fits else {
            throw APIError.contextLengthExceeded(promptTokens: promptCount, requestedTokens: maxTokens,
                                                 contextLength: contextLength,
                                                 param: maxTokens == nil || promptCount >= contextLength ? param : "max_tokens")
        }
    }
}
