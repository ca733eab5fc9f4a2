/// How quantized matrix kernels round their fp32 input (activations) before the integer products.
///
/// All are exact integer arithmetic afterwards and batch invariant; the choice trades accuracy
/// for the integer work of every row (prefill and batched decode; single-row decode is bound by
/// reading the weights either way). It is fixed per loaded model: rows computed together must
/// round the same way.
///
/// Measured (mean KL of the fp32 reference path over 1,024 GPL-3 tokens, and the share of blocks
/// that keep the second term): SmolLM2-135M high 1.1e-6, balanced 6.0e-4 (23 % of blocks), int8
/// 3.4e-3; Qwen2.5-Coder-0.5B high 8.2e-6, balanced 6.2e-4 (30 %), int8 2.5e-3.
public enum ActivationPrecision: String, Sendable, CaseIterable {
    /// Two int8 terms per 32 (or 256) elements everywhere, x ≈ d·q1 + d/256·q2: about 15 bits.
    /// The default.
    case high
    /// Two terms on the blocks whose energy (max|x|²) is at least the row's mean, where rounding
    /// costs the most (outlier channels), one elsewhere: within 1e-3 nats of the fp32 reference at
    /// a fraction of `high`'s integer work (greedy continuations may differ from `high`'s).
    case balanced
    /// One int8 term, x ≈ d·q1, as llama.cpp's Q8 activations: half the integer products.
    case int8

    /// Activation terms the C kernels compute at most (1: none of the blocks has a residual).
    public var terms: Int32 { self == .int8 ? 1 : 2 }

    /// The residual threshold of `ei_quantize_activation_rows`: a block keeps its residual when
    /// amax² · blockCount ≥ threshold · Σ amax² over the row.
    public var residualThreshold: Float {
        switch self {
        case .high: 0
        case .balanced: 1
        case .int8: .infinity
        }
    }
}
