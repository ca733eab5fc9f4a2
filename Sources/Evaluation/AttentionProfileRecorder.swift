import Foundation

/// Collects what the prefill's profiler reports, layer by layer and head by head, into an
/// `AttentionProfile`. The profiler hook calls `record` (from any thread; calls are serialized);
/// heads never reported (dense layers) come out unprofiled: no entropy, no budget, not rigid.
public final class AttentionProfileRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private let layerCount: Int
    private let kvHeadCount: Int
    private var heads: [AttentionProfile.Head?]

    public init(layerCount: Int, kvHeadCount: Int) {
        self.layerCount = layerCount
        self.kvHeadCount = kvHeadCount
        heads = Array(repeating: nil, count: layerCount * kvHeadCount)
    }

    /// One head's series for the prompt: entropy (nats) and chosen budget (tokens) per query
    /// segment, nil where a segment was not profiled / ran dense. A later report for the same
    /// head (a later prefill chunk) extends the series: values it has replace nils.
    public func record(layer: Int, kvHead: Int, entropy: [Double?], budgetTokens: [Int?], isRigid: Bool) {
        precondition(layer < layerCount && kvHead < kvHeadCount, "head outside the model")
        lock.lock()
        defer { lock.unlock() }
        let index = layer * kvHeadCount + kvHead
        guard var head = heads[index] else {
            heads[index] = AttentionProfile.Head(layer: layer, kvHead: kvHead, entropy: entropy, budgetTokens: budgetTokens,
                                                 isRigid: isRigid)
            return
        }
        head.entropy = Self.merged(head.entropy, entropy)
        head.budgetTokens = Self.merged(head.budgetTokens, budgetTokens)
        head.isRigid = isRigid
        heads[index] = head
    }

    static func merged<T>(_ old: [T?], _ new: [T?]) -> [T?] {
        (0..<max(old.count, new.count)).map { index in
            (index < new.count ? new[index] : nil) ?? (index < old.count ? old[index] : nil)
        }
    }

    public func profile(model: String, policy: String, promptTokens: Int, segmentTokens: Int, blockTokens: Int) -> AttentionProfile {
        lock.lock()
        defer { lock.unlock() }
        let segments = (promptTokens + segmentTokens - 1) / segmentTokens
        func padded<T>(_ series: [T?]) -> [T?] {
            Array(series.prefix(segments)) + Array(repeating: nil, count: max(0, segments - series.count))
        }
        let complete = heads.enumerated().map { index, head in
            let head = head ?? AttentionProfile.Head(layer: index / kvHeadCount, kvHead: index % kvHeadCount, entropy: [],
                                                     budgetTokens: [], isRigid: false)
            return AttentionProfile.Head(layer: head.layer, kvHead: head.kvHead, entropy: padded(head.entropy),
                                         budgetTokens: padded(head.budgetTokens), isRigid: head.isRigid)
        }
        return AttentionProfile(model: model, policy: policy, promptTokens: promptTokens, segmentTokens: segmentTokens,
                                blockTokens: blockTokens, layerCount: layerCount, kvHeadCount: kvHeadCount, heads: complete)
    }
}
