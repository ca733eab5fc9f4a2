import Engine
import JSON
import Tokenization

/// Prompt token ids for both endpoints, and the context-length check made before anything is
/// submitted (so a streaming request still gets a plain 400).
enum PromptTokens {
    /// `bos_token` / `eos_token` for templates, from the tokenizer's special tokens.
    static func templateVariables(_ tokenizer: any Tokenizer) -> [String: TemplateValue] {
        var variables: [String: TemplateValue] = [:]
        let specials = tokenizer.specialTokens
        variables["bos_token"] = .string(specials.bos.map(tokenizer.tokenText) ?? "")
        variables["eos_token"] = .string((specials.eos ?? specials.eot).map(tokenizer.tokenText) ?? "")
        return variables
    }

    /// Renders the conversation and tokenizes it: special-token text in the rendered prompt
    /// becomes special tokens, and BOS is prepended when the vocabulary asks for it and the
    /// template did not write it (transformers' and llama.cpp's results agree this way).
    static func chat(messages: [TemplateValue], service: any GenerationService,
                     renderer: any ChatPromptRenderer) throws(APIError) -> [Int32] {
        let tokenizer = service.tokenizer
        let text: String
        do {
            text = try renderer.render(messages: messages, variables: templateVariables(tokenizer), service: service)
        } catch {
            throw APIError.invalidValue("messages", "The model's chat template rejected the conversation: \(error.message)")
        }
        var tokens = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
        if tokenizer.specialTokens.addBOS, let bos = tokenizer.specialTokens.bos, tokens.first != bos {
            tokens.insert(bos, at: 0)
        }
        return tokens
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
