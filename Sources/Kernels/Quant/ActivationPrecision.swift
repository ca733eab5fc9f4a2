/// How quantized matrix kernels round their fp32 input (activations) before the integer products.
///
/// Both are exact integer arithmetic afterwards and batch invariant; the choice trades accuracy
/// for the integer work of every row (prefill and batched decode; single-row decode is bound by
/// reading the weights either way). It is fixed per loaded model: rows computed together must
/// round the same way.
public enum ActivationPrecision: String, Sendable, CaseIterable {
    /// Two int8 terms per 32 (or 256) elements, x ≈ d·q1 + d/256·q2: about 15 bits, within 1e-6
    /// nats mean KL of the fp32 reference on SmolLM2.
    case high
    /// One int8 term, x ≈ d·q1, as llama.cpp's Q8 activations (about 3e-3 nats mean KL on
    /// SmolLM2): half the integer products.
    case int8

    /// Activation terms the C kernels compute.
    public var terms: Int32 { self == .high ? 2 : 1 }
}
