/// How prefill attention spends its compute: the dense oracle or one of the sparse policies of
/// the entropy-guided method (arXiv 2606.09508). Chosen per request (`"attention"` extension
/// field) or by the server's configured default.
public struct AttentionPolicy: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// Every query attends to every earlier key (the oracle).
        case dense
        /// The released algorithm as written (segment budgets = max over heads, non-causal rigid
        /// test, relative-entropy recurrence); needs the whole prompt in one pass.
        case reference
        /// Ours: per-KV-head budgets from each segment's own block distribution (causal), sink and
        /// local window always kept, deterministic partial selection.
        case entropy
        /// The same top-k for every head (CritiPrefill-style ablation).
        case uniform
    }

    public var kind: Kind
    /// Query segment length (tokens); prefill chunks align to it.
    public var segmentTokens = 512
    /// Segments starting before this position are dense (`threshold_len`).
    public var denseBelowTokens = 4096
    /// Layers with index below this are dense (`layer_skip`). 1 as released.
    public var denseLayers = 1
    /// Prompts shorter than this use dense attention (policies chosen by configuration only;
    /// a policy named in a request applies at any length).
    public var minimumPromptTokens = 0

    // `reference` knobs (EntropyInfer's JSON defaults).
    /// Rigid-head entropy threshold (nats, on the unscaled pooled scores).
    public var rigidEntropyThreshold: Double = 1e-5
    /// Relative-entropy-change pivot of the budget recurrence.
    public var deltaThreshold: Double = 0.4
    /// Budget step gain.
    public var alpha: Double = 0.5
    /// Base budget in tokens of past context per segment.
    public var baseBudgetTokens = 2048
    /// Largest budget, in multiples of the base.
    public var maximumBudgetFactor = 3

    // `entropy` knobs.
    /// Queries of each segment whose exact attention estimates its block distribution (evenly
    /// spaced, the last included); 0 uses the pooled max/min query of the released profile.
    /// 32 (one per 16-token block of a 512-token segment): on Qwen2.5-Coder-0.5B at 16K tokens of
    /// license text, KL(dense‖entropy) 0.067 nats at 35 % of the pairs, against 1.09 nats for
    /// the pooled query (copy heads need each query's own source); 16 gave 0.12 at 43 %.
    public var profileQueries = 32
    /// Fraction of a head's estimated block-attention mass its selection must cover. 0.95 by
    /// the causal score (`eval --tasks ppl-end`; Qwen2.5-Coder-0.5B, 32K tokens of license
    /// text): 0.9 predicted 1.32 % worse than dense, outside the 1 % the issue allows, and
    /// 0.95 brings it inside at 2.5× dense prefill speed (docs/BENCHMARKS.md).
    public var coverage: Double = 0.95
    /// Budget bounds per KV head and segment, in tokens of past context. A larger cap (12,288)
    /// barely moved NLL at 32K and cost speed.
    public var minimumBudgetTokens = 512
    public var maximumBudgetTokens = 6144
    /// Always kept: the first `sinkTokens` positions and the last `localWindowTokens` before the
    /// segment.
    public var sinkTokens = 64
    public var localWindowTokens = 512
    /// The prompt's last segment (where the question usually is) attends densely, as in the
    /// released code; `reference` always does.
    public var denseLastSegment = true

    // `uniform` knob.
    /// Tokens of past context every head selects per segment.
    public var uniformBudgetTokens = 2048

    public init(kind: Kind) {
        self.kind = kind
    }

    public static let dense = AttentionPolicy(kind: .dense)

    public var isDense: Bool { kind == .dense }

    /// Where prefill of a prompt of `promptTokens` tokens turns dense: the start of its last
    /// segment when the policy keeps that segment dense (`reference` always does), else never.
    public func denseFromPosition(promptTokens: Int) -> Int {
        guard !isDense, kind == .reference || denseLastSegment else { return .max }
        return (promptTokens - 1) / segmentTokens * segmentTokens
    }

    /// A canonical text of every knob that changes the computed KV, for prefix-cache keys: dense
    /// and sparse KV never mix, nor do different knobs.
    public var cacheKey: String {
        switch kind {
        case .dense:
            return "dense"
        case .reference:
            return "reference(seg=\(segmentTokens),dense<\(denseBelowTokens),layers<\(denseLayers),et=\(rigidEntropyThreshold),delta=\(deltaThreshold),alpha=\(alpha),base=\(baseBudgetTokens),max=\(maximumBudgetFactor))"
        case .entropy:
            return "entropy(seg=\(segmentTokens),dense<\(denseBelowTokens),layers<\(denseLayers),probe=\(profileQueries),cover=\(coverage),min=\(minimumBudgetTokens),max=\(maximumBudgetTokens),sink=\(sinkTokens),local=\(localWindowTokens),last=\(denseLastSegment ? "dense" : "sparse"))"
        case .uniform:
            return "uniform(seg=\(segmentTokens),dense<\(denseBelowTokens),layers<\(denseLayers),budget=\(uniformBudgetTokens),last=\(denseLastSegment ? "dense" : "sparse"))"
        }
    }

    public var description: String { cacheKey }
}
