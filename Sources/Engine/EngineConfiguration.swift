import Attention
import Kernels
import KVMemory

/// Engine settings (the server's config maps onto these).
public struct EngineConfiguration: Sendable {
    /// A catalog name was resolved to this GGUF path by the caller.
    public var modelPath: String
    /// The served model name; defaults to the file stem.
    public var modelID: String?
    public var aliases: [String] = []
    /// Compute threads (including the engine thread).
    public var threadCount: Int = 2
    /// Context length to serve; nil or larger than the model's means the model's.
    public var contextLength: Int?
    /// Bytes for the KV block pool; nil = room for four full-context sessions, at most 8 GiB.
    public var kvMemoryBytes: Int?
    public var kvDataType: KVDataType = .f16
    /// How the quantized matrix kernels round activations (fixed for the engine's lifetime).
    public var activationPrecision: ActivationPrecision = .high
    public var scheduler = SchedulerConfiguration()
    /// Requests waiting beyond this are refused (HTTP 503).
    public var maxQueuedRequests: Int = 64
    /// Prefill attention of requests that name no policy; it applies to prompts of at least
    /// `defaultAttention.minimumPromptTokens` tokens (shorter prompts run dense). A policy named
    /// in a request applies at any length.
    public var defaultAttention: AttentionPolicy = .dense
    /// KV compression of requests that name no policy; it applies to prompts of at least
    /// `defaultKVCompression.minimumPromptTokens` tokens (shorter ones keep every entry). A policy
    /// named in a request applies at any length.
    public var defaultKVCompression: KVCompressionPolicy = .none

    public init(modelPath: String) {
        self.modelPath = modelPath
    }
}
