/// How a rendered chat prompt becomes token ids, shared by the server and the CLI so both send
/// the model exactly the same tokens.
public enum ChatPrompt {
    /// Globals templates expect besides the messages: `bos_token` and `eos_token`.
    public static func variables(for tokenizer: any Tokenizer) -> [String: TemplateValue] {
        let specials = tokenizer.specialTokens
        return [
            "bos_token": .string(specials.bos.map(tokenizer.tokenText) ?? ""),
            "eos_token": .string((specials.eos ?? specials.eot).map(tokenizer.tokenText) ?? ""),
        ]
    }

    /// Token ids of a rendered prompt: special-token text becomes special tokens, and BOS is
    /// prepended when the vocabulary asks for it and the template did not write it
    /// (transformers and llama.cpp agree on this).
    public static func tokens(rendered text: String, tokenizer: any Tokenizer) -> [Int32] {
        var tokens = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
        if tokenizer.specialTokens.addBOS, let bos = tokenizer.specialTokens.bos, tokens.first != bos {
            tokens.insert(bos, at: 0)
        }
        return tokens
    }
}
