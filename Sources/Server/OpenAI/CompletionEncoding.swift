import Engine
import JSON
import Tokenization

/// `text_completion` responses and stream chunks of `/v1/completions`. Choice `i` of prompt `p`
/// has index `p * n + i`.
struct CompletionEncoding {
    let id: String
    let created: Int
    let model: String
    let prompts: [CompletionPrompt]
    let choicesPerPrompt: Int
    let echo: Bool
    /// Legacy integer `logprobs`: nil for none.
    let logprobs: Int?
    let tokenizer: any Tokenizer

    func prompt(ofChoice index: Int) -> CompletionPrompt { prompts[index / choicesPerPrompt] }

    func response(_ outcomes: [ChoiceOutcome]) -> JSONValue {
        let choices: [JSONValue] = outcomes.enumerated().map { index, outcome in
            let prompt = prompt(ofChoice: index)
            var text = echo ? prompt.text : ""
            text += outcome.text
            var listing: JSONValue = .null
            if let logprobs {
                var legacy = LegacyLogprobs(topCount: logprobs, tokenizer: tokenizer)
                if echo {
                    legacy.appendPrompt(prompt.tokens, logprobs: outcome.promptLogprobs ?? [],
                                        addedLeadingTokens: prompt.addedLeadingTokens)
                }
                legacy.appendGenerated(outcome.logprobs)
                listing = legacy.json
            }
            return ["index": .int(index), "text": .string(text), "logprobs": listing,
                    "finish_reason": .string(outcome.finishReason.apiValue)]
        }
        let usage = UsageTotals(promptTokenCounts: prompts.map(\.tokens.count), usages: outcomes.map(\.usage),
                                choicesPerPrompt: choicesPerPrompt)
        return ["id": .string(id), "object": "text_completion", "created": .int(created), "model": .string(model),
                "choices": .array(choices), "usage": usage.json]
    }

    func chunk(choices: [JSONValue], includeUsage: Bool) -> JSONValue {
        var object: JSONObject = ["id": .string(id), "object": "text_completion", "created": .int(created),
                                  "model": .string(model), "choices": .array(choices)]
        if includeUsage { object["usage"] = .null }
        return .object(object)
    }

    func choice(_ index: Int, text: String, logprobs: JSONValue = .null, finishReason: String? = nil) -> JSONValue {
        ["index": .int(index), "text": .string(text), "logprobs": logprobs, "finish_reason": JSONValue(finishReason)]
    }
}
