import JSON
import Tokenization

/// One prompt of `/v1/completions`: its tokens and the text `echo` repeats.
struct CompletionPrompt {
    var tokens: [Int32]
    var text: String
    /// Leading tokens that are not in `text` (the BOS `add_special` put in front); they take no
    /// characters in `text_offset`.
    var addedLeadingTokens = 0

    /// `prompt`: a string, a list of strings, a list of token ids, or a list of token-id lists.
    static func parse(_ fields: JSONFields, tokenizer: any Tokenizer) throws(APIError) -> [CompletionPrompt] {
        guard let value = fields.value("prompt") else {
            throw .field(.missing("prompt"))
        }
        switch value {
        case .string(let text):
            return [try fromText(text, tokenizer: tokenizer, param: "prompt")]
        case .array(let elements):
            guard !elements.isEmpty else {
                throw .invalidValue("prompt", "Invalid value for 'prompt': the list is empty.")
            }
            if elements.allSatisfy({ if case .int = $0 { return true } else { return false } }) {
                return [try fromTokens(elements, tokenizer: tokenizer, param: "prompt")]
            }
            var prompts: [CompletionPrompt] = []
            for (index, element) in elements.enumerated() {
                let param = "prompt[\(index)]"
                switch element {
                case .string(let text): prompts.append(try fromText(text, tokenizer: tokenizer, param: param))
                case .array(let ids): prompts.append(try fromTokens(ids, tokenizer: tokenizer, param: param))
                default:
                    throw .field(.invalidType(param, expected: "a string or an array of token ids", got: element))
                }
            }
            return prompts
        default:
            throw .field(.invalidType("prompt", expected: "a string, an array of strings or an array of token ids", got: value))
        }
    }

    private static func fromText(_ text: String, tokenizer: any Tokenizer, param: String) throws(APIError) -> CompletionPrompt {
        let tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
        guard !tokens.isEmpty else {
            throw .invalidValue(param, "Invalid value for '\(param)': the prompt is empty.")
        }
        var prompt = CompletionPrompt(tokens: tokens, text: text)
        if let bos = tokenizer.specialTokens.bos, tokens.first == bos, !text.hasPrefix(tokenizer.tokenText(bos)) {
            prompt.addedLeadingTokens = 1
        }
        return prompt
    }

    private static func fromTokens(_ ids: [JSONValue], tokenizer: any Tokenizer, param: String) throws(APIError) -> CompletionPrompt {
        guard !ids.isEmpty else { throw .invalidValue(param, "Invalid value for '\(param)': the prompt is empty.") }
        var tokens: [Int32] = []
        tokens.reserveCapacity(ids.count)
        for (index, id) in ids.enumerated() {
            guard case .int(let number) = id else {
                throw .field(.invalidType("\(param)[\(index)]", expected: "a token id (integer)", got: id))
            }
            guard number >= 0, number < tokenizer.vocabularySize else {
                throw .invalidValue("\(param)[\(index)]",
                                    "Invalid value for '\(param)[\(index)]': \(number) is not a token id of this model (0…\(tokenizer.vocabularySize - 1)).")
            }
            tokens.append(Int32(number))
        }
        return CompletionPrompt(tokens: tokens, text: tokenizer.decode(tokens))
    }
}
