import COpenBLAS
import Foundation
import GGUF
import Kernels

/// The plain fp32 forward pass: every weight dequantized to fp32 once, fp32 activations, fp32
/// keys and values, textbook attention. It shares nothing with the fast path but the
/// hyperparameters and `Dequantize`, and is the oracle every fast kernel is checked against.
/// Slow and memory-hungry (4 bytes per parameter) by design.
public final class ReferenceModel: @unchecked Sendable {
    public let config: ModelConfig

    private struct Layer {
        var attentionNorm: [Float], feedForwardNorm: [Float]
        var query: [Float], key: [Float], value: [Float], output: [Float]   // (outputs, inputs)
        var queryBias: [Float]?, keyBias: [Float]?, valueBias: [Float]?
        var gate: [Float], up: [Float], down: [Float]
    }

    private let embedding: EmbeddingTable
    private let layers: [Layer]
    private let outputNorm: [Float]
    private let outputMatrix: [Float]      // (vocabulary, hidden)
    /// Cached keys and values per layer: (positions, kvWidth).
    private var keys: [[Float]]
    private var values: [[Float]]
    public private(set) var positionCount = 0

    public init(file: GGUFFile) throws(ModelError) {
        let architectureName: String
        do { architectureName = try file.string("general.architecture") } catch { throw .file(error) }
        config = try ArchitectureRegistry.architecture(named: architectureName).config(from: file)
        let weights = try ModelWeightsReader(file: file, config: config)
        embedding = weights.embedding
        let hidden = config.hiddenSize
        var layers: [Layer] = []
        for index in 0..<config.layerCount {
            let p = "blk.\(index)."
            layers.append(Layer(
                attentionNorm: try weights.dense(p + "attn_norm.weight", [hidden]),
                feedForwardNorm: try weights.dense(p + "ffn_norm.weight", [hidden]),
                query: try weights.dense(p + "attn_q.weight", [hidden, config.queryWidth]),
                key: try weights.dense(p + "attn_k.weight", [hidden, config.kvWidth]),
                value: try weights.dense(p + "attn_v.weight", [hidden, config.kvWidth]),
                output: try weights.dense(p + "attn_output.weight", [config.queryWidth, hidden]),
                queryBias: config.hasQKVBias ? try weights.dense(p + "attn_q.bias", [config.queryWidth]) : nil,
                keyBias: config.hasQKVBias ? try weights.dense(p + "attn_k.bias", [config.kvWidth]) : nil,
                valueBias: config.hasQKVBias ? try weights.dense(p + "attn_v.bias", [config.kvWidth]) : nil,
                gate: try weights.dense(p + "ffn_gate.weight", [hidden, config.feedForwardSize]),
                up: try weights.dense(p + "ffn_up.weight", [hidden, config.feedForwardSize]),
                down: try weights.dense(p + "ffn_down.weight", [config.feedForwardSize, hidden])))
        }
        self.layers = layers
        outputNorm = try weights.dense("output_norm.weight", [hidden])
        outputMatrix = file.tensors["output.weight"] != nil
            ? try weights.dense("output.weight", [hidden, config.vocabularySize])
            : try weights.dense("token_embd.weight", [hidden, config.vocabularySize])
        keys = Array(repeating: [], count: config.layerCount)
        values = Array(repeating: [], count: config.layerCount)
    }

    /// Forgets the cached context.
    public func reset() {
        keys = Array(repeating: [], count: config.layerCount)
        values = Array(repeating: [], count: config.layerCount)
        positionCount = 0
    }

    /// Processes `tokens` after the cached context and returns logits
    /// ((tokens.count, vocabulary) when `allLogits`, else the last row only).
    public func forward(_ tokens: [Int32], allLogits: Bool = false) -> [Float] {
        let count = tokens.count
        let hidden = config.hiddenSize, headDim = config.headDim
        var x = [Float](repeating: 0, count: count * hidden)
        x.withUnsafeMutableBufferPointer { buffer in
            for (i, token) in tokens.enumerated() { embedding.lookup(token, into: buffer.baseAddress! + i * hidden) }
        }
        var positions = (0..<count).map { Int32(positionCount + $0) }
        var table = [Float](repeating: 0, count: count * config.rope.dimensionCount)
        config.rope.fillTable(positions: &positions, count: count, table: &table)

        for (l, layer) in layers.enumerated() {
            var normed = Self.rmsNorm(x, rows: count, weight: layer.attentionNorm, epsilon: config.rmsNormEpsilon)
            var q = Self.matmul(normed, rows: count, layer.query, outputs: config.queryWidth)
            var k = Self.matmul(normed, rows: count, layer.key, outputs: config.kvWidth)
            let v = Self.matmul(normed, rows: count, layer.value, outputs: config.kvWidth)
            if let b = layer.queryBias { for i in 0..<q.count { q[i] += b[i % b.count] } }
            if let b = layer.keyBias { for i in 0..<k.count { k[i] += b[i % b.count] } }
            var vBiased = v
            if let b = layer.valueBias { for i in 0..<vBiased.count { vBiased[i] += b[i % b.count] } }
            config.rope.apply(&q, rowStride: config.queryWidth, rowCount: count, headCount: config.queryHeadCount, headDim: headDim, table: table)
            config.rope.apply(&k, rowStride: config.kvWidth, rowCount: count, headCount: config.kvHeadCount, headDim: headDim, table: table)
            keys[l].append(contentsOf: k)
            values[l].append(contentsOf: vBiased)
            let attended = attention(layer: l, queries: q, count: count)
            let projected = Self.matmul(attended, rows: count, layer.output, outputs: hidden)
            for i in 0..<x.count { x[i] += projected[i] }

            normed = Self.rmsNorm(x, rows: count, weight: layer.feedForwardNorm, epsilon: config.rmsNormEpsilon)
            var gate = Self.matmul(normed, rows: count, layer.gate, outputs: config.feedForwardSize)
            let up = Self.matmul(normed, rows: count, layer.up, outputs: config.feedForwardSize)
            for i in 0..<gate.count { gate[i] = gate[i] / (1 + expf(-gate[i])) * up[i] }
            let down = Self.matmul(gate, rows: count, layer.down, outputs: hidden)
            for i in 0..<x.count { x[i] += down[i] }
        }
        positionCount += count
        let rows = allLogits ? Array(0..<count) : [count - 1]
        var selected = [Float]()
        for row in rows { selected.append(contentsOf: x[row * hidden..<(row + 1) * hidden]) }
        let normed = Self.rmsNorm(selected, rows: rows.count, weight: outputNorm, epsilon: config.rmsNormEpsilon)
        return Self.matmul(normed, rows: rows.count, outputMatrix, outputs: config.vocabularySize)
    }

    /// Causal attention of the new queries over all cached keys, textbook form.
    private func attention(layer: Int, queries: [Float], count: Int) -> [Float] {
        let headDim = config.headDim, group = config.queryHeadCount / config.kvHeadCount
        let scale = 1 / Float(headDim).squareRoot()
        var output = [Float](repeating: 0, count: count * config.queryWidth)
        let cachedKeys = keys[layer], cachedValues = values[layer]
        let start = positionCount
        for t in 0..<count {
            let visible = start + t + 1
            for head in 0..<config.queryHeadCount {
                let kvHead = head / group
                var scores = [Float](repeating: 0, count: visible)
                for j in 0..<visible {
                    var dot: Float = 0
                    for d in 0..<headDim {
                        dot += queries[t * config.queryWidth + head * headDim + d] * cachedKeys[j * config.kvWidth + kvHead * headDim + d]
                    }
                    scores[j] = dot * scale
                }
                let maximum = scores.max()!
                var total: Float = 0
                for j in 0..<visible { scores[j] = expf(scores[j] - maximum); total += scores[j] }
                for d in 0..<headDim {
                    var sum: Float = 0
                    for j in 0..<visible { sum += scores[j] * cachedValues[j * config.kvWidth + kvHead * headDim + d] }
                    output[t * config.queryWidth + head * headDim + d] = sum / total
                }
            }
        }
        return output
    }

    private static func rmsNorm(_ x: [Float], rows: Int, weight: [Float], epsilon: Float) -> [Float] {
        let width = weight.count
        var out = [Float](repeating: 0, count: x.count)
        for r in 0..<rows {
            var sum: Float = 0
            for i in 0..<width { sum += x[r * width + i] * x[r * width + i] }
            let scale = 1 / (sum / Float(width) + epsilon).squareRoot()
            for i in 0..<width { out[r * width + i] = x[r * width + i] * scale * weight[i] }
        }
        return out
    }

    /// (rows, inputs) × (outputs, inputs)ᵀ in fp32 (OpenBLAS sgemm).
    private static func matmul(_ x: [Float], rows: Int, _ w: [Float], outputs: Int) -> [Float] {
        let inputs = w.count / outputs
        var out = [Float](repeating: 0, count: rows * outputs)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
                    x, Int32(inputs), w, Int32(inputs), 0, &out, Int32(outputs))
        return out
    }
}

/// Reads tensors of a GGUF file as dense fp32 arrays (for the reference path).
private struct ModelWeightsReader {
    let file: GGUFFile
    let config: ModelConfig
    let loader: TensorLoader
    let embedding: EmbeddingTable

    init(file: GGUFFile, config: ModelConfig) throws(ModelError) {
        self.file = file
        self.config = config
        loader = TensorLoader(file: file)
        let info = try loader.info("token_embd.weight", dimensions: [config.hiddenSize, config.vocabularySize])
        embedding = EmbeddingTable(type: info.type, data: file.data(of: info),
                                   rowBytes: info.type.byteCount(elements: config.hiddenSize)!,
                                   width: config.hiddenSize, rowCount: config.vocabularySize)
    }

    func dense(_ name: String, _ dimensions: [Int]) throws(ModelError) -> [Float] {
        let info = try loader.info(name, dimensions: dimensions)
        let count = info.elementCount
        var values = [Float](repeating: 0, count: count)
        let rowLength = dimensions[0]
        let rowBytes = info.type.byteCount(elements: rowLength)!
        values.withUnsafeMutableBufferPointer { buffer in
            for row in 0..<count / rowLength {
                Dequantize.row(info.type, from: file.data(of: info) + row * rowBytes,
                               into: buffer.baseAddress! + row * rowLength, count: rowLength)
            }
        }
        return values
    }
}
