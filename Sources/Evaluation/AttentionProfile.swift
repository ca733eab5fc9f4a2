import Foundation
import JSON

/// What `entropyinfer profile` draws: for one prompt, per layer and KV head, the entropy of the
/// head's pooled block-attention distribution in each query segment, the past-context budget
/// the policy chose there, and whether the head was classified rigid.
///
/// Filled from the prefill's profiler hook; a plain value so the picture and the JSON can be
/// produced (and tested) without a model.
public struct AttentionProfile: Sendable, Equatable {
    public struct Head: Sendable, Equatable {
        public var layer: Int
        public var kvHead: Int
        /// Entropy in nats per query segment; nil where the segment was not profiled (segment 0
        /// sees no earlier block; dense layers are not profiled).
        public var entropy: [Double?]
        /// Tokens of past context selected per segment; nil where the segment ran dense.
        public var budgetTokens: [Int?]
        public var isRigid: Bool

        public init(layer: Int, kvHead: Int, entropy: [Double?], budgetTokens: [Int?], isRigid: Bool) {
            self.layer = layer; self.kvHead = kvHead; self.entropy = entropy; self.budgetTokens = budgetTokens
            self.isRigid = isRigid
        }
    }

    public var model: String
    /// The policy's canonical description (`AttentionPolicy.cacheKey`).
    public var policy: String
    public var promptTokens: Int
    public var segmentTokens: Int
    /// Key-block length of the profile's block scores.
    public var blockTokens: Int
    public var layerCount: Int
    public var kvHeadCount: Int
    /// Layer-major: `heads[layer * kvHeadCount + kvHead]`.
    public var heads: [Head]

    public init(model: String, policy: String, promptTokens: Int, segmentTokens: Int, blockTokens: Int,
                layerCount: Int, kvHeadCount: Int, heads: [Head]) {
        precondition(heads.count == layerCount * kvHeadCount, "one entry per layer and KV head")
        self.model = model; self.policy = policy; self.promptTokens = promptTokens; self.segmentTokens = segmentTokens
        self.blockTokens = blockTokens; self.layerCount = layerCount; self.kvHeadCount = kvHeadCount; self.heads = heads
    }

    public var segmentCount: Int { (promptTokens + segmentTokens - 1) / segmentTokens }

    public func head(layer: Int, kvHead: Int) -> Head { heads[layer * kvHeadCount + kvHead] }

    /// ln(blocks visible to segment s): the entropy of a uniform distribution over them, the
    /// largest value a head can reach there; nil for segment 0, which sees none.
    public func maximumEntropy(segment: Int) -> Double? {
        let blocks = segment * segmentTokens / blockTokens
        return blocks > 0 ? Foundation.log(Double(blocks)) : nil
    }

    public var rigidHeadCount: Int { heads.filter(\.isRigid).count }

    /// The numbers as JSON: metadata, then per layer its heads with entropy and budget series
    /// (null where not profiled / dense).
    public func json() -> JSONValue {
        var layers: [JSONValue] = []
        for layer in 0..<layerCount {
            let layerHeads: [JSONValue] = (0..<kvHeadCount).map { kvHead in
                let head = self.head(layer: layer, kvHead: kvHead)
                return .object([
                    "kv_head": .int(kvHead),
                    "rigid": .bool(head.isRigid),
                    "entropy": .array(head.entropy.map(Self.entropyValue)),
                    "budget_tokens": .array(head.budgetTokens.map { (budget: Int?) -> JSONValue in budget.map(JSONValue.int) ?? .null }),
                ])
            }
            layers.append(.object(["layer": .int(layer), "heads": .array(layerHeads)]))
        }
        return .object([
            "model": .string(model), "policy": .string(policy), "prompt_tokens": .int(promptTokens),
            "segment_tokens": .int(segmentTokens), "block_tokens": .int(blockTokens), "segments": .int(segmentCount),
            "layer_count": .int(layerCount), "kv_head_count": .int(kvHeadCount), "rigid_heads": .int(rigidHeadCount),
            "layers": .array(layers),
        ])
    }

    private static func entropyValue(_ value: Double?) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        return .double(value)
    }
}
