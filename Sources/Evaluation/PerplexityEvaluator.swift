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
        public var statistics = NextTokenStatistics()
        /// Wall time of each window's forward pass (prefill plus logits of the scored rows).
        public var windowSeconds: [Double] = []
        /// Attention work of the policy's window prefills.
        public var attention = AttentionWork()

        public init(policy: AttentionPolicy, context: Int) {
            self.policy = policy
            self.context = context
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
    /// policy. `bos`: the token each window starts with, if the vocabulary uses one.
    public func evaluate(text: [Int32], context: Int, windows: Int, policies: [AttentionPolicy], bos: Int32?,
                         log: (String) -> Void = { _ in }) throws -> [PolicyResult] {
        let available = Self.windowCount(textTokens: text.count, context: context, bos: bos)
        guard available > 0 else { throw EvaluationError.textTooShort(tokens: text.count, context: context) }
        let windowTotal = min(windows, available)
        let vocabulary = model.config.vocabularySize
        let positions = Self.scoredPositions(windowLength: context, count: scoredPositionsPerWindow)
        let layout = model.kvLayout()
        let blocksPerStream = (context + KVLayout.blockTokens - 1) / KVLayout.blockTokens + 1
        let pool = try KVBlockPool(layout: layout,
                                   budgetBytes: blocksPerStream * layout.streamCount * (layout.bytesPerBlock + layout.summaryBytesPerBlock))
        // (positions.count, vocabulary) f32 each.
        let denseLogits = UnsafeMutablePointer<Float>.allocate(capacity: positions.count * vocabulary)
        let policyLogits = UnsafeMutablePointer<Float>.allocate(capacity: positions.count * vocabulary)
        defer { denseLogits.deallocate(); policyLogits.deallocate() }

        var results = policies.map { PolicyResult(policy: $0, context: context) }
        let textPerWindow = context - (bos == nil ? 0 : 1)
        for window in 0..<windowTotal {
            let start = window * textPerWindow
            let input = (bos.map { [$0] } ?? []) + Array(text[start..<start + textPerWindow])
            let next = text[start + textPerWindow]
            let targets = positions.map { $0 + 1 < context ? input[$0 + 1] : next }

            let (denseSeconds, denseWork) = try prefill(input, policy: .dense, pool: pool, rows: positions, logits: denseLogits)
            for index in results.indices {
                let policy = results[index].policy
                let seconds: Double
                let work: AttentionWork
                let rows: UnsafeMutablePointer<Float>
                if policy == .dense {
                    (seconds, work) = (denseSeconds, denseWork)
                    rows = denseLogits
                } else {
                    (seconds, work) = try prefill(input, policy: policy, pool: pool, rows: positions, logits: policyLogits)
                    rows = policyLogits
                }
                results[index].attention += work
                for (row, target) in targets.enumerated() {
                    results[index].statistics.add(dense: denseLogits + row * vocabulary, policy: rows + row * vocabulary,
                                                  vocabularySize: vocabulary, target: target)
                }
                results[index].windowSeconds.append(seconds)
                log(String(format: "ppl %@ context %d window %d/%d: %.2f s, mean NLL so far %.4f", policy.label,
                           context, window + 1, windowTotal, seconds, results[index].statistics.meanNLL))
            }
        }
        return results
    }

    /// One unchunked prefill of `input` under `policy`; logits of `rows` into `logits`. Seconds
    /// and the attention work.
    private func prefill(_ input: [Int32], policy: AttentionPolicy, pool: KVBlockPool, rows: [Int],
                         logits: UnsafeMutablePointer<Float>) throws -> (Double, AttentionWork) {
        let kv = KVSequence(pool: pool)
        defer { kv.releaseAll() }
        try kv.reserve(appending: input.count)
        // As the engine runs a prompt: the last segment dense when the policy says so (the
        // `reference` rule makes its last segment dense by itself).
        let lastSegmentStart = (input.count - 1) / policy.segmentTokens * policy.segmentTokens
        let batch = ForwardBatch(tokens: input, segments: [ForwardBatch.Segment(
            kv: kv, tokenStart: 0, tokenCount: input.count, attention: policy,
            denseFromPosition: policy.denseLastSegment ? lastSegmentStart : .max)],
                                 logitRows: rows)
        let start = Date()
        var work = AttentionWork()
        for segmentWork in model.forward(batch, logits: logits) { work += segmentWork }
        return (Date().timeIntervalSince(start), work)
    }
}
