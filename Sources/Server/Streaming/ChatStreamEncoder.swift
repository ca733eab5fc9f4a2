import Engine
import JSON

/// Chat streaming: per choice, a role chunk (`{"role": "assistant", "content": null}`) before
/// anything else, content chunks that are never empty, one chunk with an empty delta and the
/// `finish_reason`; after every choice, the usage chunk (`choices: []`) when asked for.
/// `return_progress` adds llama.cpp's `prompt_progress` object: on the role chunk when it is
/// the choice's first event, else on a chunk with `choices: []`.
///
/// When the request's tool calls are parsed, text goes through a `ToolCallParser` per choice:
/// content deltas never carry call markup, each call streams as `tool_calls` deltas (the first
/// with `index`, `id`, `type` and `function.name`, then `function.arguments` pieces), and the
/// finish reason is `tool_calls` when calls were made. Logprobs of text that produced no delta
/// yet ride on the next delta.
struct ChatStreamEncoder: StreamEncoder {
    let encoding: ChatCompletionEncoding
    let includeUsage: Bool
    let promptTokenCount: Int
    private var roleSent: [Bool]
    private var usages: [GenerationUsage]
    /// Per choice when tool calls are parsed.
    private var parsers: [ToolCallParser]?
    private var pendingLogprobs: [[TokenLogprob]]

    init(encoding: ChatCompletionEncoding, choiceCount: Int, includeUsage: Bool, promptTokenCount: Int) {
        self.encoding = encoding; self.includeUsage = includeUsage; self.promptTokenCount = promptTokenCount
        roleSent = Array(repeating: false, count: choiceCount)
        usages = Array(repeating: GenerationUsage(), count: choiceCount)
        parsers = encoding.tools.parsesCalls
            ? Array(repeating: ToolCallParser(parallelCalls: encoding.tools.parallelCalls), count: choiceCount) : nil
        pendingLogprobs = Array(repeating: [], count: choiceCount)
    }

    mutating func encode(choice: Int, event: GenerationEvent) -> [UInt8] {
        var frames: [UInt8] = []
        switch event {
        case .progress(let progress):
            let extra = [("prompt_progress", Self.progressJSON(progress))]
            if roleSent[choice] {
                frames += SSE.event(encoding.chunk(choices: [], includeUsage: includeUsage, extra: extra))
            } else {
                frames += roleChunk(choice, extra: extra)
            }
        case .promptLogprobs:
            break
        case .text(let text, _, let logprobs):
            frames += roleChunk(choice)
            if parsers != nil {
                pendingLogprobs[choice] += logprobs
                frames += toolCallFrames(choice, parsers![choice].push(text))
                break
            }
            guard !text.isEmpty else { break }
            let delta: JSONValue = ["content": .string(text)]
            frames += SSE.event(encoding.chunk(
                choices: [encoding.choiceDelta(choice, delta: delta, logprobs: encoding.logprobs(logprobs))],
                includeUsage: includeUsage))
        case .finished(let reason, let usage):
            frames += roleChunk(choice)
            usages[choice] = usage
            var finishReason = reason.apiValue
            var leftLogprobs: JSONValue = .null
            if parsers != nil {
                frames += toolCallFrames(choice, parsers![choice].finish())
                finishReason = ChatCompletionEncoding.finishReason(reason, madeCalls: parsers![choice].callCount > 0)
                if !pendingLogprobs[choice].isEmpty { leftLogprobs = encoding.logprobs(pendingLogprobs[choice]) }
            }
            frames += SSE.event(encoding.chunk(
                choices: [encoding.choiceDelta(choice, delta: .object([:]), logprobs: leftLogprobs, finishReason: finishReason)],
                includeUsage: includeUsage))
        case .failed:
            break
        }
        return frames
    }

    /// One chunk per parser event, consecutive argument pieces of a call merged.
    private mutating func toolCallFrames(_ choice: Int, _ events: [ToolCallEvent]) -> [UInt8] {
        var merged: [ToolCallEvent] = []
        for event in events {
            if case .arguments(let index, let more) = event, case .arguments(index, let text)? = merged.last {
                merged[merged.count - 1] = .arguments(index: index, text + more)
            } else {
                merged.append(event)
            }
        }
        var frames: [UInt8] = []
        for event in merged {
            let id: String? = if case .callStarted = event { ToolCallID.make() } else { nil }
            let delta = ChatCompletionEncoding.toolCallDelta(event, id: id)
            frames += SSE.event(encoding.chunk(
                choices: [encoding.choiceDelta(choice, delta: delta, logprobs: encoding.logprobs(pendingLogprobs[choice]))],
                includeUsage: includeUsage))
            pendingLogprobs[choice].removeAll()
        }
        return frames
    }

    private mutating func roleChunk(_ choice: Int, extra: [(String, JSONValue)] = []) -> [UInt8] {
        guard !roleSent[choice] else { return [] }
        roleSent[choice] = true
        let delta: JSONValue = ["role": "assistant", "content": .null]
        return SSE.event(encoding.chunk(choices: [encoding.choiceDelta(choice, delta: delta)], includeUsage: includeUsage,
                                        extra: extra))
    }

    mutating func trailer() -> [UInt8] {
        guard includeUsage else { return [] }
        let usage = UsageTotals(promptTokenCounts: [promptTokenCount], usages: usages, choicesPerPrompt: usages.count)
        var object: JSONObject = ["id": .string(encoding.id), "object": "chat.completion.chunk",
                                  "created": .int(encoding.created), "model": .string(encoding.model), "choices": []]
        object["usage"] = usage.json
        return SSE.event(.object(object))
    }

    static func progressJSON(_ progress: PromptProgress) -> JSONValue {
        ["total": .int(progress.total), "cache": .int(progress.cached), "processed": .int(progress.processed),
         "time_ms": .double(progress.elapsedMilliseconds)]
    }
}
