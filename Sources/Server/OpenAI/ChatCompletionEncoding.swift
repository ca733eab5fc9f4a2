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

    /// The tools offered; when they are parsed, calls in the output become `tool_calls`.
    var tools: ToolRequest = .none

    func response(_ outcomes: [ChoiceOutcome], promptTokenCount: Int) -> JSONValue {
        let choices: [JSONValue] = outcomes.enumerated().map { index, outcome in
            var message: JSONObject = ["role": "assistant", "content": .string(outcome.text)]
            var finishReason = outcome.finishReason.apiValue
            if tools.parsesCalls {
                let transcript = ToolCallTranscript.parse(outcome.text, parallelCalls: tools.parallelCalls)
                if !transcript.calls.isEmpty {
                    message["content"] = transcript.content.isEmpty ? .null : .string(transcript.content)
                    message["tool_calls"] = .array(transcript.calls.map { call in
                        ["id": .string(ToolCallID.make()), "type": "function",
                         "function": ["name": .string(call.name), "arguments": .string(call.arguments)]]
                    })
                    finishReason = Self.finishReason(outcome.finishReason, madeCalls: true)
                } else {
                    message["content"] = .string(transcript.content)
                }
            }
            return ["index": .int(index), "message": .object(message), "logprobs": logprobs(outcome.logprobs),
                    "finish_reason": .string(finishReason)]
        }
        let usage = UsageTotals(promptTokenCounts: [promptTokenCount], usages: outcomes.map(\.usage),
                                choicesPerPrompt: outcomes.count)
        return ["id": .string(id), "object": "chat.completion", "created": .int(created), "model": .string(model),
                "choices": .array(choices), "usage": usage.json]
    }

    /// `tool_calls` when an answer that made calls ended by itself; a cut (`length`) stays one.
    static func finishReason(_ reason: FinishReason, madeCalls: Bool) -> String {
        madeCalls && reason == .stop ? "tool_calls" : reason.apiValue
    }

    /// The delta of a streamed tool-call event: content, a call's first delta (`id`, `type`,
    /// `function.name`, empty `arguments`) or more of its arguments.
    static func toolCallDelta(_ event: ToolCallEvent, id: String?) -> JSONValue {
        switch event {
        case .content(let text):
            return ["content": .string(text)]
        case .callStarted(let index, let name):
            return ["tool_calls": [["index": .int(index), "id": JSONValue(id), "type": "function",
                                    "function": ["name": .string(name), "arguments": ""]]]]
        case .arguments(let index, let text):
            return ["tool_calls": [["index": .int(index), "function": ["arguments": .string(text)]]]]
        }
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
