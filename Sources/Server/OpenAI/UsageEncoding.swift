import Engine
import JSON

/// OpenAI's `usage` object. Prompt tokens count once per prompt (not per choice); completion
/// tokens add up over choices.
struct UsageTotals {
    var promptTokens = 0
    var cachedTokens = 0
    var completionTokens = 0
    /// Extension: the prefill attention policy and its work in query-key pairs (per query head,
    /// summed over layers and choices): computed, and what dense attention would compute.
    var attentionPolicy = "dense"
    var attentionPairsComputed = 0
    var attentionPairsDense = 0

    /// `promptIndex(choice)` maps a choice to its prompt so each prompt is counted once.
    init(promptTokenCounts: [Int], usages: [GenerationUsage], choicesPerPrompt: Int) {
        promptTokens = promptTokenCounts.reduce(0, +)
        for (choice, usage) in usages.enumerated() {
            completionTokens += usage.completionTokens
            if choice % choicesPerPrompt == 0 { cachedTokens += usage.cachedTokens }
            attentionPairsComputed += usage.attentionPairsComputed
            attentionPairsDense += usage.attentionPairsDense
            if usage.attentionPolicy != "dense" { attentionPolicy = usage.attentionPolicy }
        }
    }

    /// OpenAI's fields, plus `attention` when a sparse policy ran (dense requests keep the
    /// exact OpenAI shape).
    var json: JSONValue {
        var usage: JSONValue = ["prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens),
                                "total_tokens": .int(promptTokens + completionTokens),
                                "prompt_tokens_details": ["cached_tokens": .int(cachedTokens)]]
        if attentionPolicy != "dense", case .object(var object) = usage {
            object["attention"] = ["policy": .string(attentionPolicy), "pairs_computed": .int(attentionPairsComputed),
                                   "pairs_dense": .int(attentionPairsDense),
                                   "pairs_skipped": .int(attentionPairsDense - attentionPairsComputed)]
            usage = .object(object)
        }
        return usage
    }
}
