import GGUF

/// Qwen2 / Qwen2.5: the llama block with biases on Q, K and V and NeoX ("rotate half") RoPE.
public struct Qwen2Architecture: Architecture {
    public static let name = "qwen2"

    public static func config(from file: GGUFFile) throws(ModelError) -> ModelConfig {
        try StandardHyperparameters(file: file, prefix: name).config(ropeLayout: .halves, hasQKVBias: true)
    }
}
