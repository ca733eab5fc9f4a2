import GGUF

/// Llama 1/2/3, TinyLlama, SmolLM2, Mistral (no sliding window): RMSNorm, SwiGLU, GQA, RoPE on
/// adjacent pairs (the GGUF converter permutes Q/K rows for it), tied or untied output head.
public struct LlamaArchitecture: Architecture {
    public static let name = "llama"

    public static func config(from file: GGUFFile) throws(ModelError) -> ModelConfig {
        try StandardHyperparameters(file: file, prefix: name).config(ropeLayout: .adjacentPairs, hasQKVBias: false)
    }
}
