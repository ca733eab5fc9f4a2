import Attention
import Foundation
import KVMemory
import Models

/// Perplexity, mean NLL and next-token KL divergence against dense on long real text, per
/// attention policy, streamed window by window.
///
/// The token stream is cut into consecutive, non-overlapping windows of `context` tokens (BOS
/// first when the vocabulary asks for one). Each window is prefilled in ONE forward pass per
/// policy — unchunked, so policies that profile the whole prompt see all of it — through
/// `ForwardBatch.Segment.attention`, the same seam the engine uses. Logits are taken only for
/// `scoredPositions` positions of the window, spread evenly over its second half (each scored
/// token has at least context/2 tokens before it, and the sparse region of every policy is
/// covered): holding all logits of an 8K window would take 8192 × vocabulary floats (5 GB for
/// Qwen's 151,936 tokens). Dense runs once per window; each policy's rows are compared with the
/// dense rows of the same positions, one row at a time (`NextTokenStatistics`), and then freed.
/// Each window runs as the engine would run it as a prompt (its last segment dense when the
/// policy keeps the last segment dense).
///
/// Two scorings (`EvaluationTask`):
/// - `ppl` scores the positions inside the window's one prefill: predictions no user receives
///   (mid-prompt, with the scored queries themselves sparse). Under `entropy` and `uniform` a
///   segment's past blocks are chosen from queries spread over the whole segment, so the
///   prediction at position t also reads blocks that queries of t's later tokens (up to a
///   segment ahead) asked for: it is not a causal score.
/// - `ppl-end` predicts each scored token at the end of a prompt that stops just before it
///   (the first token a user would get after that prompt),
///   exactly as the engine would prefill that prompt: the segments before t's segment come
///   from the window's prefill (they never see t), and t's own segment runs again on a fork of
///   the cache that shares those blocks. When the policy keeps the prompt's last segment dense,
///   one fork serves every scored position of a segment (dense attention is causal); otherwise
///   each position gets its own fork ending at it (one fewer than 16 tokens into its segment
///   runs dense, as every forward pass that short does: the engine's prompt alone would run
///   that tail sparse). Dense reuses its `ppl` rows (causal). The
///   `reference` rule classifies heads over the whole prompt, so it has no `ppl-end` score
///   short of one full prefill per position; the plan refuses it.
public final class PerplexityEvaluator {
    public let model: Model
    public let scoredPositionsPerWindow: Int

    public init(model: Model, scoredPositionsPerWindow: Int) {
        precondition(scoredPositionsPerWindow > 0, "score at least one position")
        self.model = model
        self.scoredPositionsPerWindow = scoredPositionsPerWindow
    }

    public struct PolicyResult: Sendable {
        public var policy: AttentionPolicy
        public var context: Int
        /// `.perplexity` or `.perplexityAtPromptEnd`: how the scored rows were obtained.
        public var task: EvaluationTask
        public var statistics = NextTokenStatistics()
        /// Wall time of each window's forward pass (prefill plus logits of the scored rows).
        public var windowSeconds: [Double] = []
        /// Attention work of the policy's window prefills.
        public var attention = AttentionWork()

        public init(policy: AttentionPolicy, context: Int, task: EvaluationTask = .perplexity) {
            self.policy = policy
            self.context = context
            self.task = task
        }
    }

    /// Positions of a `windowLength`-token window whose next token is scored: `count` positions
    /// evenly spaced over [windowLength/2, windowLength), ending at the last one; every
    /// position of that range when `count` covers it.
    public static func scoredPositions(windowLength: Int, count: Int) -> [Int] {
        let first = windowLength / 2
        let available = windowLength - first
        guard count < available else { return Array(first..<windowLength) }
        let stride = Double(available) / Double(count)
        return (0..<count).map { windowLength - 1 - Int((Double(count - 1 - $0) * stride).rounded(.down)) }
    }

    /// Windows of `context` tokens available in `tokenCount` text tokens (one more token is
    /// needed after each window: the target of its last position).
    public static func windowCount(textTokens tokenCount: Int, context: Int, bos: Int32?) -> Int {
        let textPerWindow = context - (bos == nil ? 0 : 1)
        return max(0, (tokenCount - 1) / textPerWindow)
    }

    /// Runs `windows` windows of `text` (token ids without BOS) at `context` tokens for every
    /// policy and every perplexity task of `tasks`, in the order policies × tasks. `bos`: the
    /// token each window starts with, if the vocabulary uses one.
    public func evaluate(text: [Int32], context: Int, windows: Int, policies: [AttentionPolicy], bos: Int32?,
                         tasks: [EvaluationTask] = [.perplexity], log: (String) -> Void = { _ in }) throws -> [PolicyResult] {
        let available = Self.windowCount(textTokens: text.count, context: context, bos: bos)
        guard available > 0 else { throw EvaluationError.textTooShort(tokens: text.count, context: context) }
        // In-window rows first: the prompt-end forks overwrite the policy's logits.
        let scorings = EvaluationTask.allCases.filter { $0.isPerplexity && tasks.contains($0) }
        precondition(!scorings.isEmpty, "a perplexity task to score")
        if scorings.contains(.perplexityAtPromptEnd), let reference = policies.first(where: { $0.kind == .reference }) {
            throw EvaluationError.invalidOption(Self.referenceAtPromptEnd(reference))
        }
        let windowTotal = min(windows, available)
        let vocabulary = model.config.vocabularySize
        let positions = Self.scoredPositions(windowLength: context, count: scoredPositionsPerWindow)
        let layout = model.kvLayout()
        // One window's cache, plus one fork's own blocks (at most a segment) beside it.
        let largestSegment = policies.map(\.segmentTokens).max() ?? 0
        let blocksPerStream = (context + KVLayout.blockTokens - 1) / KVLayout.blockTokens + 1
            + (scorings.contains(.perplexityAtPromptEnd) ? largestSegment / KVLayout.blockTokens + 2 : 0)
        let pool = try KVBlockPool(layout: layout,
                                   budgetBytes: blocksPerStream * layout.streamCount * (layout.bytesPerBlock + layout.summaryBytesPerBlock))
        // (positions.count, vocabulary) f32 each.
        let denseLogits = UnsafeMutablePointer<Float>.allocate(capacity: positions.count * vocabulary)
        let policyLogits = UnsafeMutablePointer<Float>.allocate(capacity: positions.count * vocabulary)
        defer { denseLogits.deallocate(); policyLogits.deallocate() }

        var results = policies.flatMap { policy in scorings.map { PolicyResult(policy: policy, context: context, task: $0) } }
        let textPerWindow = context - (bos == nil ? 0 : 1)
        for window in 0..<windowTotal {
            let start = window * textPerWindow
            let input = (bos.map { [$0] } ?? []) + Array(text[start..<start + textPerWindow])
            let next = text[start + textPerWindow]
            let targets = positions.map { $0 + 1 < context ? input[$0 + 1] : next }

            let denseKV = KVSequence(pool: pool)
            let (denseSeconds, denseWork) = try prefill(input, policy: .dense, kv: denseKV, rows: positions, logits: denseLogits)
            denseKV.releaseAll()
            for (policyIndex, policy) in policies.enumerated() {
                let seconds: Double
                let work: AttentionWork
                let windowKV = KVSequence(pool: pool)
                defer { windowKV.releaseAll() }
                if policy.isDense {
                    (seconds, work) = (denseSeconds, denseWork)
                } else {
                    (seconds, work) = try prefill(input, policy: policy, kv: windowKV, rows: positions, logits: policyLogits)
                }
                for (scoringIndex, scoring) in scorings.enumerated() {
                    var rows = policy.isDense ? denseLogits : policyLogits
                    if scoring == .perplexityAtPromptEnd && !policy.isDense {
                        let forkSeconds = try promptEndLogits(input, policy: policy, windowKV: windowKV, rows: positions,
                                                              logits: policyLogits)
                        rows = policyLogits
                        log(String(format: "ppl-end %@ context %d window %d/%d: forks %.2f s", policy.label, context,
                                   window + 1, windowTotal, forkSeconds))
                    }
                    let index = policyIndex * scorings.count + scoringIndex   // results are policies × scorings
                    results[index].attention += work
                    for (row, target) in targets.enumerated() {
                        results[index].statistics.add(dense: denseLogits + row * vocabulary, policy: rows + row * vocabulary,
                                                      vocabularySize: vocabulary, target: target)
                    }
                    results[index].windowSeconds.append(seconds)
                    log(String(format: "%@ %@ context %d window %d/%d: %.2f s, mean NLL so far %.4f", scoring.rawValue,
                               policy.label, context, window + 1, windowTotal, seconds, results[index].statistics.meanNLL))
                }
            }
        }
        return results
    }

    static func referenceAtPromptEnd(_ policy: AttentionPolicy) -> String {
        "ppl-end cannot score '\(policy.label)': the reference rule classifies heads over the whole prompt, so each scored position would need its own full prefill; run it with --tasks ppl"
    }

    /// One unchunked prefill of `input` under `policy` into the empty `kv`; logits of `rows` into
    /// `logits`. Seconds and the attention work.
    private func prefill(_ input: [Int32], policy: AttentionPolicy, kv: KVSequence, rows: [Int],
                         logits: UnsafeMutablePointer<Float>) throws -> (Double, AttentionWork) {
        try kv.reserve(appending: input.count)
        // As the engine runs a prompt: the last segment dense when the policy says so (the
        // `reference` rule makes its last segment dense by itself).
        let batch = ForwardBatch(tokens: input, segments: [ForwardBatch.Segment(
            kv: kv, tokenStart: 0, tokenCount: input.count, attention: policy,
            denseFromPosition: policy.denseFromPosition(promptTokens: input.count))],
                                 logitRows: rows)
        let start = Date()
        var work = AttentionWork()
        for segmentWork in model.forward(batch, logits: logits) { work += segmentWork }
        return (Date().timeIntervalSince(start), work)
    }

    /// Logits of every position t of `rows` (ascending) as the last token of the prompt
    /// `input[0...t]` under `policy` (an `entropy` or `uniform` policy, whose segments are causal),
    /// into `logits` row by row. `windowKV` holds the window's prefill under the same policy: the
    /// blocks before t's segment are exactly those of the shorter prompt and are shared; t's
    /// segment runs again on a fork. Returns the seconds spent.
    public func promptEndLogits(_ input: [Int32], policy: AttentionPolicy, windowKV: KVSequence, rows: [Int],
                                logits: UnsafeMutablePointer<Float>) throws -> Double {
        precondition(policy.kind == .entropy || policy.kind == .uniform, "causal segments")
        let vocabulary = model.config.vocabularySize
        let started = Date()
        var rowIndex = 0
        while rowIndex < rows.count {
            let segmentStart = rows[rowIndex] / policy.segmentTokens * policy.segmentTokens
            var groupEnd = rowIndex
            while groupEnd < rows.count && rows[groupEnd] / policy.segmentTokens * policy.segmentTokens == segmentStart {
                groupEnd += 1
            }
            // Dense last segment: one fork up to the group's last position scores them all.
            // Sparse last segment: the piece's sampled queries depend on where it ends, so one fork each.
            let prompts: [Range<Int>] = policy.denseLastSegment ? [rowIndex..<groupEnd]
                                                                : (rowIndex..<groupEnd).map { $0..<($0 + 1) }
            for prompt in prompts {
                let last = rows[prompt.upperBound - 1]
                let fork = KVSequence(pool: windowKV.pool)
                defer { fork.releaseAll() }
                fork.adopt(prefix: (0..<segmentStart / KVLayout.blockTokens).map { windowKV.streamBlocks(atBlock: $0)! })
                let tokens = Array(input[segmentStart...last])
                try fork.reserve(appending: tokens.count)
                let batch = ForwardBatch(tokens: tokens, segments: [ForwardBatch.Segment(
                    kv: fork, tokenStart: 0, tokenCount: tokens.count, attention: policy,
                    denseFromPosition: policy.denseFromPosition(promptTokens: last + 1))],
                                         logitRows: prompt.map { rows[$0] - segmentStart })
                _ = model.forward(batch, logits: logits + prompt.lowerBound * vocabulary)
            }
            rowIndex = groupEnd
        }
        return Date().timeIntervalSince(started)
    }
}
