import Kernels

/// Hyperparameters of a decoder-only transformer, read from GGUF metadata.
public struct ModelConfig: Sendable {
    /// GGUF `general.architecture`.
    public var architecture: String
    public var layerCount: Int
    /// Width of the residual stream.
    public var hiddenSize: Int
    /// Inner width of the SwiGLU feed-forward block.
    public var feedForwardSize: Int
    public var queryHeadCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var vocabularySize: Int
    /// Longest context the model was trained for (tokens).
    public var contextLength: Int
    public var rmsNormEpsilon: Float
    public var rope: RotaryEmbedding
    /// Q, K and V projections carry biases (Qwen2).
    public var hasQKVBias: Bool

    public var queryWidth: Int { queryHeadCount * headDim }
    public var kvWidth: Int { kvHeadCount * headDim }
}
