import GGUF
import Kernels

/// What differs between decoder-only architectures: how hyperparameters are read and which
/// options the shared transformer block uses. Adding an architecture = one file in
/// `Architectures/` plus one line in `ArchitectureRegistry.all`.
public protocol Architecture: Sendable {
    /// GGUF `general.architecture` value.
    static var name: String { get }
    /// Reads the hyperparameters from the file's metadata.
    static func config(from file: GGUFFile) throws(ModelError) -> ModelConfig
}

public enum ArchitectureRegistry {
    public static let all: [any Architecture.Type] = [
        LlamaArchitecture.self,
        Qwen2Architecture.self,
    ]

    public static func architecture(named name: String) throws(ModelError) -> any Architecture.Type {
        guard let found = all.first(where: { $0.name == name }) else {
            throw .unknownArchitecture(name, supported: all.map { $0.name })
        }
        return found
    }
}

/// Reads the hyperparameters every llama-like GGUF architecture stores under `<arch>.`.
struct StandardHyperparameters {
    let file: GGUFFile
    let prefix: String

    func int(_ key: String) throws(ModelError) -> Int {
        do { return try file.int("\(prefix).\(key)") } catch { throw .file(error) }
    }

    func optionalInt(_ key: String) -> Int? { file.value("\(prefix).\(key)")?.intValue }
    func optionalDouble(_ key: String) -> Double? { file.value("\(prefix).\(key)")?.doubleValue }

    func positive(_ key: String) throws(ModelError) -> Int {
        let value = try int(key)
        guard value > 0, value < 1 << 24 else {
            throw .invalidHyperparameter(key: "\(prefix).\(key)", message: "\(value) is out of range")
        }
        return value
    }

    /// The common decoder-only config; architectures adjust the result.
    func config(ropeLayout: RotaryEmbedding.Layout, hasQKVBias: Bool) throws(ModelError) -> ModelConfig {
        let hidden = try positive("embedding_length")
        let heads = try positive("attention.head_count")
        let kvHeads = optionalInt("attention.head_count_kv") ?? heads
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw .invalidHyperparameter(key: "\(prefix).attention.head_count_kv",
                                         message: "\(kvHeads) does not divide the \(heads) query heads")
        }
        let headDim = optionalInt("attention.key_length") ?? hidden / heads
        guard headDim > 0, headDim % 16 == 0, headDim <= 256 else {
            throw .unsupportedFeature("head dimension \(headDim) is not supported (a multiple of 16 up to 256 is)")
        }
        if let valueLength = optionalInt("attention.value_length"), valueLength != headDim {
            throw .unsupportedFeature("key and value head sizes differ (\(headDim) vs \(valueLength))")
        }
        let vocabulary: Int
        if let size = optionalInt("vocab_size") {
            vocabulary = size
        } else if let tokens = file.value("tokenizer.ggml.tokens")?.arrayValue {
            vocabulary = tokens.count
        } else {
            throw .invalidHyperparameter(key: "\(prefix).vocab_size", message: "missing, and the file has no vocabulary")
        }
        var positionScale = 1.0
        if let type = file.value("\(prefix).rope.scaling.type")?.stringValue, type != "none" {
            guard type == "linear", let factor = optionalDouble("rope.scaling.factor"), factor > 0 else {
                throw .unsupportedFeature("RoPE scaling '\(type)' is not supported (linear is)")
            }
            positionScale = factor
        }
        let ropeDimensions = optionalInt("rope.dimension_count") ?? headDim
        guard ropeDimensions > 0, ropeDimensions <= headDim, ropeDimensions % 2 == 0 else {
            throw .invalidHyperparameter(key: "\(prefix).rope.dimension_count", message: "\(ropeDimensions) for head size \(headDim)")
        }
        let epsilon = optionalDouble("attention.layer_norm_rms_epsilon") ?? 1e-5
        return ModelConfig(
            architecture: prefix,
            layerCount: try positive("block_count"),
            hiddenSize: hidden,
            feedForwardSize: try positive("feed_forward_length"),
            queryHeadCount: heads,
            kvHeadCount: kvHeads,
            headDim: headDim,
            vocabularySize: vocabulary,
            contextLength: optionalInt("context_length") ?? 2048,
            rmsNormEpsilon: Float(epsilon),
            rope: RotaryEmbedding(layout: ropeLayout, dimensionCount: ropeDimensions,
                                  base: optionalDouble("rope.freq_base") ?? 10_000, positionScale: positionScale),
            hasQKVBias: hasQKVBias)
    }
}
