import Engine
import JSON

/// Completions streaming: with `echo`, a first chunk per choice carries the prompt (and its
/// logprobs when asked); text chunks follow; a last chunk per choice has empty text and the
/// `finish_reason`; then the usage chunk (`choices: []`) when asked for.
struct CompletionStreamEncoder: StreamEncoder {
    let encoding: CompletionEncoding
    let includeUsage: Bool
    private var echoSent: [Bool]
    private var offsets: [Int]
    private var usages: [GenerationUsage]

    init(encoding: CompletionEncoding, choiceCount: Int, includeUsage: Bool) {
        self.encoding = encoding; self.includeUsage = includeUsage
        echoSent = Array(repeating: !encoding.echo, count: choiceCount)
        offsets = Array(repeating: 0, count: choiceCount)
        usages = Array(repeating: GenerationUsage(), count: choiceCount)
    }

    mutating func encode(choice: Int, event: GenerationEvent) -> [UInt8] {
        var frames: [UInt8] = []
        switch event {
        case .progress:
            break
        case .promptLogprobs(let entries):
            frames += echoChunk(choice, promptLogprobs: entries)
        case .text(let text, _, let logprobs):
            frames += echoChunk(choice, promptLogprobs: nil)
            guard !text.isEmpty else { break }
            var listing: JSONValue = .null
            if let top = encoding.logprobs {
                var legacy = LegacyLogprobs(topCount: top, tokenizer: encoding.tokenizer, startOffset: offsets[choice])
                legacy.appendGenerated(logprobs)
                offsets[choice] = legacy.offset
                listing = legacy.json
            }
            frames += SSE.event(encoding.chunk(choices: [encoding.choice(choice, text: text, logprobs: listing)],
                                               includeUsage: includeUsage))
        case .finished(let reason, let usage):
            frames += echoChunk(choice, promptLogprobs: nil)
            usages[choice] = usage
            frames += SSE.event(encoding.chunk(choices: [encoding.choice(choice, text: "", finishReason: reason.apiValue)],
                                               includeUsage: includeUsage))
        case .failed:
            break
        }
        return frames
    }

    private mutating func echoChunk(_ choice: Int, promptLogprobs: [TokenLogprob?]?) -> [UInt8] {
        guard !echoSent[choice] else { return [] }
        echoSent[choice] = true
        let prompt = encoding.prompt(ofChoice: choice)
        var listing: JSONValue = .null
        if let top = encoding.logprobs {
            var legacy = LegacyLogprobs(topCount: top, tokenizer: encoding.tokenizer)
            legacy.appendPrompt(prompt.tokens, logprobs: promptLogprobs ?? [], addedLeadingTokens: prompt.addedLeadingTokens)
            offsets[choice] = legacy.offset
            listing = legacy.json
        }
        return SSE.event(encoding.chunk(choices: [encoding.choice(choice, text: prompt.text, logprobs: listing)],
                                        includeUsage: includeUsage))
    }

    mutating func trailer() -> [UInt8] {
        guard includeUsage else { return [] }
        let usage = UsageTotals(promptTokenCounts: encoding.prompts.map(\.tokens.count), usages: usages,
                                choicesPerPrompt: encoding.choicesPerPrompt)
        let object: JSONObject = ["id": .string(encoding.id), "object": "text_completion", "created": .int(encoding.created),
                                  "model": .string(encoding.model), "choices": [], "usage": usage.json]
        return SSE.event(.object(object))
    }
}
