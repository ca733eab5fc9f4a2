import Engine
import JSON

/// OpenAI's `usage` object. Prompt tokens count once per prompt (not per choice); completion
/// tokens add up over choices.
struct UsageTotals {
    var promptTokens = 0
    var cachedTokens = 0
    var completionTokens = 0

    /// `promptIndex(choice)` maps a choice to its prompt so each prompt is counted once.
    init(promptTokenCounts: [Int], usages: [GenerationUsage], choicesPerPrompt: Int) {
        promptTokens = promptTokenCounts.reduce(0, +)
        for (choice, usage) in usages.enumerated() {
            completionTokens += usage.completionTokens
            if choice % choicesPerPrompt == 0 { cachedTokens += usage.cachedTokens }
        }
    }

    var json: JSONValue {
        ["prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens),
         "total_tokens": .int(promptTokens + completionTokens),
         "prompt_tokens_details": ["cached_tokens": .int(cachedTokens)]]
    }
}
