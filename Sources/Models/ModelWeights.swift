import GGUF
import Kernels

/// Weights of one transformer block. Matrices are (outputs, inputs).
public struct LayerWeights: Sendable {
    public let attentionNorm: [Float]          // (hidden)
    public let query: WeightMatrix             // (queryWidth, hidden)
    public let key: WeightMatrix               // (kvWidth, hidden)
    public let value: WeightMatrix             // (kvWidth, hidden)
    public let queryBias: [Float]?             // (queryWidth)
    public let keyBias: [Float]?               // (kvWidth)
    public let valueBias: [Float]?             // (kvWidth)
    public let attentionOutput: WeightMatrix   // (hidden, queryWidth)
    public let feedForwardNorm: [Float]        // (hidden)
    public let gate: WeightMatrix              // (feedForward, hidden)
    public let up: WeightMatrix                // (feedForward, hidden)
    public let down: WeightMatrix              // (hidden, feedForward)
    /// query, key, value as one job: the input is quantized once.
    public let queryKeyValue: WeightMatrixSet
    /// gate, up as one job.
    public let gateUp: WeightMatrixSet
}

/// Token embedding rows, read (dequantized) one token at a time from the mapped file.
public struct EmbeddingTable: @unchecked Sendable {
    public let type: GGMLType
    public let data: UnsafeRawPointer
    public let rowBytes: Int
    public let width: Int
    public let rowCount: Int

    /// Writes the embedding of `token` (width floats) into `destination`.
    public func lookup(_ token: Int32, into destination: UnsafeMutablePointer<Float>) {
        Dequantize.row(type, from: data + Int(token) * rowBytes, into: destination, count: width)
    }
}

/// All weights of a model. Matrices stay in their GGUF quantization (repacked at most once).
public final class ModelWeights: @unchecked Sendable {
    public let file: GGUFFile
    public let embedding: EmbeddingTable
    public let layers: [LayerWeights]
    public let outputNorm: [Float]           // (hidden)
    /// (vocabulary, hidden); the embedding table itself when the model ties them.
    public let output: WeightMatrix

    public init(file: GGUFFile, config: ModelConfig, pool: ThreadPool? = nil,
                activationPrecision: ActivationPrecision = .high) throws(ModelError) {
        self.file = file
        let loader = TensorLoader(file: file, pool: pool, activationPrecision: activationPrecision)
        let hidden = config.hiddenSize
        let embeddingInfo = try loader.info("token_embd.weight", dimensions: [hidden, config.vocabularySize])
        embedding = EmbeddingTable(type: embeddingInfo.type, data: file.data(of: embeddingInfo),
                                   rowBytes: embeddingInfo.type.byteCount(elements: hidden)!,
                                   width: hidden, rowCount: config.vocabularySize)
        var layers: [LayerWeights] = []
        for index in 0..<config.layerCount {
            let prefix = "blk.\(index)."
            let query = try loader.matrix(prefix + "attn_q.weight", rows: config.queryWidth, columns: hidden)
            let key = try loader.matrix(prefix + "attn_k.weight", rows: config.kvWidth, columns: hidden)
            let value = try loader.matrix(prefix + "attn_v.weight", rows: config.kvWidth, columns: hidden)
            let gate = try loader.matrix(prefix + "ffn_gate.weight", rows: config.feedForwardSize, columns: hidden)
            let up = try loader.matrix(prefix + "ffn_up.weight", rows: config.feedForwardSize, columns: hidden)
            layers.append(LayerWeights(
                attentionNorm: try loader.vector(prefix + "attn_norm.weight", count: hidden),
                query: query,
                key: key,
                value: value,
                queryBias: config.hasQKVBias ? try loader.vector(prefix + "attn_q.bias", count: config.queryWidth) : nil,
                keyBias: config.hasQKVBias ? try loader.vector(prefix + "attn_k.bias", count: config.kvWidth) : nil,
                valueBias: config.hasQKVBias ? try loader.vector(prefix + "attn_v.bias", count: config.kvWidth) : nil,
                attentionOutput: try loader.matrix(prefix + "attn_output.weight", rows: hidden, columns: config.queryWidth),
                feedForwardNorm: try loader.vector(prefix + "ffn_norm.weight", count: hidden),
                gate: gate,
                up: up,
                down: try loader.matrix(prefix + "ffn_down.weight", rows: hidden, columns: config.feedForwardSize),
                queryKeyValue: try loader.set([query, key, value], name: prefix + "attn_qkv"),
                gateUp: try loader.set([gate, up], name: prefix + "ffn_gate_up")))
        }
        self.layers = layers
        outputNorm = try loader.vector("output_norm.weight", count: hidden)
        if file.tensors["output.weight"] != nil {
            output = try loader.matrix("output.weight", rows: config.vocabularySize, columns: hidden)
        } else {
            output = try loader.matrix("token_embd.weight", rows: config.vocabularySize, columns: hidden)
        }
        // Every matrix now lives in packed private memory; only the embedding rows of tokens seen
        // are read from the mapping again (page by page). Drop the mapped pages so the model is not
        // resident twice.
        for info in file.tensors.values where info.dimensions.count >= 2 {
            file.file.dontNeed(offset: info.fileOffset, count: info.byteCount)
        }
    }
}
