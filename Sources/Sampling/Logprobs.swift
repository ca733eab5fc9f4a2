#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Log-probabilities as the OpenAI API reports them.
//
// Choice: the log-softmax of the RAW model logits, before logit bias, penalties, the token mask,
// temperature and every filter. These are the model's own likelihoods: they do not move with
// temperature or top_p, they sum to 1 over the vocabulary, and prompt logprobs (echo) give the
// perplexity evaluation harnesses expect. vLLM v1 does the same by default
// (`logprobs_mode = "raw_logprobs"`; `processed_logprobs` is opt-in, here
// `Sampler.distribution`). vLLM v0 computed them after penalties, temperature and top-k/top-p,
// which users reported as incompatible with OpenAI (vllm-project/vllm#9453).
//
// The engine therefore calls these on the logits row BEFORE `Sampler.sample`, which modifies
// the row in place.

/// The log-probability of `chosen` and the `k` most likely tokens with theirs, under
/// softmax(logits). The alternatives are sorted by logprob, largest first, ties by lower token id;
/// fewer than k come back when fewer tokens have a logit above -infinity.
///
/// Stable for any logits: the maximum is subtracted before exponentiating and the normalizer
/// log Σ e^(logit - max) is accumulated in Double. A token whose logit is -infinity (or an id
/// outside 0..<count) gets -infinity.
public func logprobs(
    of logits: UnsafePointer<Float>, count: Int, chosen: Int32, top k: Int
) -> (chosen: Float, top: [(token: Int32, logprob: Float)]) {
    let normalizer = logSumExp(logits, count: count)
    let chosenLogprob = chosen >= 0 && Int(chosen) < count ? Float(Double(logits[Int(chosen)]) - normalizer) : -.infinity
    let alternativeCount = min(max(k, 0), count)
    guard alternativeCount > 0 else { return (chosenLogprob, []) }

    let best = CandidateBuffer(capacity: alternativeCount)
    best.gatherBest(alternativeCount, from: logits, count: count)
    best.heapSort(0, best.count)
    let top = (0..<best.count).map { index in
        (token: best.tokens[index], logprob: Float(Double(best.values[index]) - normalizer))
    }
    return (chosenLogprob, top)
}

/// Prompt logprobs (`echo` with `logprobs`): `logits` holds one row per prompt position,
/// (rowCount, vocabularySize) fp32 with rowCount ≥ promptTokens.count - 1, and row i scores the
/// token at position i + 1. Returns promptTokens.count - 1 entries, entry i for promptTokens[i + 1];
/// the first prompt token has none (nothing predicts it; OpenAI reports null there).
public func promptLogprobs(
    rows logits: UnsafePointer<Float>, vocabularySize: Int, promptTokens: [Int32], top k: Int
) -> [(chosen: Float, top: [(token: Int32, logprob: Float)])] {
    guard promptTokens.count > 1 else { return [] }
    return (1..<promptTokens.count).map { position in
        logprobs(of: logits + (position - 1) * vocabularySize, count: vocabularySize, chosen: promptTokens[position], top: k)
    }
}

/// log Σ e^(logits[i]) over 0..<count, computed as max + log Σ e^(logits[i] - max) with the sum in
/// Double. -infinity when every logit is -infinity (or count is 0).
func logSumExp(_ logits: UnsafePointer<Float>, count: Int) -> Double {
    let largest = maximum(logits, count: count)
    guard largest > -.infinity else { return -.infinity }
    guard largest < .infinity else { return .infinity }
    // Exponentiate a block at a time into stack scratch so the exp loop vectorizes.
    let blockSize = 1024
    return withUnsafeTemporaryAllocation(of: Float.self, capacity: blockSize) { scratch in
        let block = scratch.baseAddress!
        var sum: Double = 0
        var start = 0
        while start < count {
            let length = min(blockSize, count - start)
            block.update(from: logits + start, count: length)
            exponentiate(block, count: length, subtracting: largest, scale: 1)
            sum += sumInDouble(block, count: length)
            start += length
        }
        return Double(largest) + log(sum)
    }
}

