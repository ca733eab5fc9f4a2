import Foundation

/// Collects what the prefill's profiler observes, one (layer, query segment) at a time, into an
/// `AttentionProfile`. The profiler hook calls `record` (from any thread; calls are serialized);
/// segments never reported (dense layers, the dense prefix) stay unprofiled. Whether a head is
/// rigid is decided at the end from its whole entropy series, by the rule the caller passes (the
/// policy's own rule, so this type knows no policy).
public final class AttentionProfileRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private let layerCount: Int
    private let kvHeadCount: Int
    /// [layer * kvHeadCount + kvHead][segment]
    private var entropy: [[Double?]]
    private var budgets: [[Int?]]

    public init(layerCount: Int, kvHeadCount: Int) {
        self.layerCount = layerCount
        self.kvHeadCount = kvHeadCount
        entropy = Array(repeating: [], count: layerCount * kvHeadCount)
        budgets = Array(repeating: [], count: layerCount * kvHeadCount)
    }

    /// One profiled segment of one layer: per KV head its entropy (nats) and the tokens of past
    /// context it attends to (nil when the segment ran dense after all).
    public func record(layer: Int, segment: Int, entropy headEntropy: [Double], budgetTokens: [Int?]) {
        precondition(layer < layerCount && headEntropy.count == kvHeadCount && budgetTokens.count == kvHeadCount,
                     "one value per KV head of a layer of the model")
        lock.lock()
        defer { lock.unlock() }
        for kvHead in 0..<kvHeadCount {
            let index = layer * kvHeadCount + kvHead
            Self.set(&entropy[index], segment, headEntropy[kvHead])
            Self.set(&budgets[index], segment, budgetTokens[kvHead])
        }
    }

    private static func set<T>(_ series: inout [T?], _ segment: Int, _ value: T?) {
        if series.count <= segment { series += Array(repeating: nil, count: segment + 1 - series.count) }
        series[segment] = value
    }

    /// The profile so far. `isRigid` classifies a head from its entropy series (nil where not
    /// profiled); heads with no profiled segment are never rigid.
    public func profile(model: String, policy: String, promptTokens: Int, segmentTokens: Int, blockTokens: Int,
                        isRigid: ([Double?]) -> Bool) -> AttentionProfile {
        lock.lock()
        defer { lock.unlock() }
        let segments = (promptTokens + segmentTokens - 1) / segmentTokens
        func padded<T>(_ series: [T?]) -> [T?] {
            Array(series.prefix(segments)) + Array(repeating: nil, count: max(0, segments - series.count))
        }
        let heads = (0..<layerCount * kvHeadCount).map { index in
            let series = padded(entropy[index])
            return AttentionProfile.Head(layer: index / kvHeadCount, kvHead: index % kvHeadCount, entropy: series,
                                         budgetTokens: padded(budgets[index]),
                                         isRigid: series.contains { $0 != nil } && isRigid(series))
        }
        return AttentionProfile(model: model, policy: policy, promptTokens: promptTokens, segmentTokens: segmentTokens,
                                blockTokens: blockTokens, layerCount: layerCount, kvHeadCount: kvHeadCount, heads: heads)
    }
}
