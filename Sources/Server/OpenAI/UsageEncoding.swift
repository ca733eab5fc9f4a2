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
    /// Extension: KV compression (summed over choices: each choice is its own session).
    var kvCompressionPolicy = "none"
    var kvCompressionBudget = 0
    var kvBytes = 0
    var kvBytesUncompressed = 0
    var kvBytesLargestAfterCompression = 0
    var kvCompressions = 0
    var kvEntriesEvicted = 0

    /// `promptIndex(choice)` maps a choice to its prompt so each prompt is counted once.
    init(promptTokenCounts: [Int], usages: [GenerationUsage], choicesPerPrompt: Int) {
        promptTokens = promptTokenCounts.reduce(0, +)
        for (choice, usage) in usages.enumerated() {
            completionTokens += usage.completionTokens
            if choice % choicesPerPrompt == 0 { cachedTokens += usage.cachedTokens }
            attentionPairsComputed += usage.attentionPairsComputed
            attentionPairsDense += usage.attentionPairsDense
            if usage.attentionPolicy != "dense" { attentionPolicy = usage.attentionPolicy }
            if usage.kvCompressionPolicy != "none" {
                kvCompressionPolicy = usage.kvCompressionPolicy
                kvCompressionBudget = usage.kvCompressionBudget
            }
            kvBytes += usage.kvBytes
            kvBytesUncompressed += usage.kvBytesUncompressed
            kvBytesLargestAfterCompression += usage.kvBytesLargestAfterCompression
            kvCompressions += usage.kvCompressions
            kvEntriesEvicted += usage.kvEntriesEvicted
        }
    }

    /// OpenAI's fields, plus `attention` when a sparse policy ran and `kv_compression` when a
    /// compression policy applied (other requests keep the exact OpenAI shape).
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
        if kvCompressionPolicy != "none", case .object(var object) = usage {
            object["kv_compression"] = ["policy": .string(kvCompressionPolicy), "budget": .int(kvCompressionBudget),
                                        "compressions": .int(kvCompressions), "entries_evicted": .int(kvEntriesEvicted),
                                        "kv_bytes": .int(kvBytes), "kv_bytes_uncompressed": .int(kvBytesUncompressed),
                                        "kv_bytes_largest_after_compression": .int(kvBytesLargestAfterCompression)]
            usage = .object(object)
        }
        return usage
    }
}
