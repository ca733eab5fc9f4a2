import Attention
import Foundation
import KVMemory
import Models

/// Runs one prompt's prefill under a sparse policy with the sparse prefill's observer attached,
/// and turns what it reports into an `AttentionProfile` (what `entropyinfer profile` draws).
///
/// The prompt is prefilled unchunked, as the engine runs it: the last segment dense when the
/// policy keeps it dense. Only sparse segments are observed, so the dense prefix
/// (`denseBelowTokens`), the dense layers and the dense last segment come out unprofiled. A head
/// is rigid when its entropy is below the policy's `rigidEntropyThreshold` in every profiled
/// segment (the released method's rule, applied to what this policy's profiler measured).
public enum PromptProfiler {
    public struct Result {
        public var profile: AttentionProfile
        public var attention: AttentionWork
        public var seconds: Double
    }

    public static func profile(model: Model, modelName: String, tokens: [Int32], policy: AttentionPolicy) throws -> Result {
        precondition(!tokens.isEmpty, "an empty prompt")
        let recorder = AttentionProfileRecorder(layerCount: model.config.layerCount, kvHeadCount: model.config.kvHeadCount)
        let segmentTokens = policy.segmentTokens
        model.sparsePrefill.observer = { layer, profile, selections in
            recorder.record(layer: layer, segment: profile.segmentStart / segmentTokens, entropy: profile.entropy,
                            budgetTokens: (0..<profile.kvHeadCount).map { head in
                                selections.map { $0[head].count * KVLayout.blockTokens }
                            })
        }
        defer { model.sparsePrefill.observer = nil }

        let layout = model.kvLayout()
        let blocks = (tokens.count + KVLayout.blockTokens - 1) / KVLayout.blockTokens + 1
        let pool = try KVBlockPool(layout: layout,
                                   budgetBytes: blocks * layout.streamCount * (layout.bytesPerBlock + layout.summaryBytesPerBlock))
        let kv = KVSequence(pool: pool)
        defer { kv.releaseAll() }
        try kv.reserve(appending: tokens.count)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: model.config.vocabularySize)
        defer { logits.deallocate() }
        let started = Date()
        let work = model.forward(ForwardBatch.single(tokens, kv: kv, attention: policy,
                                                     denseFromPosition: policy.denseFromPosition(promptTokens: tokens.count)),
                                 logits: logits)
        let seconds = Date().timeIntervalSince(started)
        var attention = AttentionWork()
        for segmentWork in work { attention += segmentWork }
        let threshold = policy.rigidEntropyThreshold
        let profile = recorder.profile(model: modelName, policy: policy.cacheKey, promptTokens: tokens.count,
                                       segmentTokens: segmentTokens, blockTokens: KVLayout.selectionBlockTokens,
                                       isRigid: { series in series.allSatisfy { ($0 ?? 0) < threshold } })
        return Result(profile: profile, attention: attention, seconds: seconds)
    }
}
