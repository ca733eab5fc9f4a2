import Engine
import JSON
import Tokenization

/// `chat.completion` responses and `chat.completion.chunk` stream events.
struct ChatCompletionEncoding {
    let id: String
    let created: Int
    let model: String
    /// nil: no logprobs; k: logprobs with k alternatives.
    let topLogprobs: Int?
    let tokenizer: any Tokenizer

    func response(_ outcomes: [ChoiceOutcome], promptTokenCount: Int) -> JSONValue {
        let choices: [JSONValue] = outcomes.enumerated().map { index, outcome in
            ["index": .int(index),
             "message": ["role": "assistant", "content": .string(outcome.text)],
             "logprobs": logprobs(outcome.logprobs),
             "finish_reason": .string(outcome.finishReason.apiValue)]
        }
        let usage = UsageTotals(promptTokenCounts: [promptTokenCount], usages: outcomes.map(\.usage),
                                choicesPerPrompt: outcomes.count)
        return ["id": .string(id), "object": "chat.completion", "created": .int(created), "model": .string(model),
                "choices": .array(choices), "usage": usage.json]
    }

    func logprobs(_ entries: [TokenLogprob]) -> JSONValue {
        guard let topLogprobs else { return .null }
        return ["content": LogprobsEncoding.chatContent(entries, topCount: topLogprobs, tokenizer: tokenizer)]
    }

    /// A chunk; `usage: null` is present on every chunk when the final usage chunk was asked for.
    func chunk(choices: [JSONValue], includeUsage: Bool, extra: [(String, JSONValue)] = []) -> JSONValue {
        var object: JSONObject = ["id": .string(id), "object": "chat.completion.chunk", "created": .int(created),
                                  "model": .string(model), "choices": .array(choices)]
        if includeUsage { object["usage"] = .null }
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }

    func choiceDelta(_ index: Int, delta: JSONValue, logprobs: JSONValue = .null, finishReason: String? = nil) -> JSONValue {
        ["index": .int(index), "delta": delta, "logprobs": logprobs, "finish_reason": JSONValue(finishReason)]
    }
}
