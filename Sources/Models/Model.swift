import Attention
import GGUF
import Kernels
import KVMemory

/// A loaded model and its fast forward pass (quantized weights, 8-bit activations inside the
/// matmuls, f16 KV cache). Owned by one thread at a time (the engine thread).
public final class Model: @unchecked Sendable {
    public let file: GGUFFile
    public let config: ModelConfig
    public let weights: ModelWeights
    public let threads: ThreadPool
    public let attention: DenseAttention
    /// Prefill attention under sparse policies (shares the dense path for dense segments).
    public let sparsePrefill: SparsePrefill
    /// Scores KV entries under observation queries for KV compression (shared by sessions).
    public let compressionScorer: ObservationScorer
    /// Runs shorter than this attend densely whatever their policy (decode steps, prompt tails).
    public static let sparseMinimumTokens = 16
    private let scratch: ForwardScratch

    /// Loads `path` (a GGUF file) with `threadCount` compute threads.
    public convenience init(path: String, threadCount: Int, activationPrecision: ActivationPrecision = .high) throws(ModelError) {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw .file(error) }
        try self.init(file: file, threads: ThreadPool(threadCount: threadCount), activationPrecision: activationPrecision)
    }

    /// - Parameter activationPrecision: how the quantized matrix kernels round their inputs
    ///   (`.high` by default; see `ActivationPrecision`).
    public init(file: GGUFFile, threads: ThreadPool, activationPrecision: ActivationPrecision = .high) throws(ModelError) {
        let architectureName: String
        do { architectureName = try file.string("general.architecture") } catch { throw .file(error) }
        let architecture = try ArchitectureRegistry.architecture(named: architectureName)
        config = try architecture.config(from: file)
        self.file = file
        self.threads = threads
        weights = try ModelWeights(file: file, config: config, pool: threads, activationPrecision: activationPrecision)
        attention = DenseAttention(
            geometry: AttentionGeometry(queryHeadCount: config.queryHeadCount, kvHeadCount: config.kvHeadCount,
                                        headDim: config.headDim),
            threads: threads)
        sparsePrefill = SparsePrefill(dense: attention, threads: threads)
        compressionScorer = ObservationScorer(geometry: attention.geometry, threads: threads)
        scratch = ForwardScratch(config: config)
    }

    /// Bytes of weights read to compute one token: every matrix once, one embedding row and the
    /// norms (decode reads all of them per token; batches share them).
    public var weightBytesPerToken: Int {
        var bytes = weights.output.packedByteCount + weights.embedding.rowBytes + weights.outputNorm.count * 4
        for layer in weights.layers {
            for matrix in [layer.query, layer.key, layer.value, layer.attentionOutput, layer.gate, layer.up, layer.down] {
                bytes += matrix.packedByteCount
            }
            bytes += (layer.attentionNorm.count + layer.feedForwardNorm.count) * 4
            bytes += ((layer.queryBias?.count ?? 0) + (layer.keyBias?.count ?? 0) + (layer.valueBias?.count ?? 0)) * 4
        }
        return bytes
    }

    /// A session's compressor under `policy` (nil for `none`); its observation window, if any,
    /// goes into the session's forward-batch segments.
    public func makeCompressor(policy: KVCompressionPolicy) -> KVCompressor? {
        policy.isNone ? nil : KVCompressor(policy: policy, scorer: compressionScorer, layerCount: config.layerCount)
    }

    /// The KV layout sessions of this model use.
    public func kvLayout(dataType: KVDataType = .f16) -> KVLayout {
        KVLayout(layerCount: config.layerCount, kvHeadCount: config.kvHeadCount, headDim: config.headDim, dataType: dataType)
    }

    /// Runs the batch through the model, appends every token's keys and values to its session's
    /// cache, advances the caches, and writes next-token logits for `batch.logitRows` into
    /// `logits` ((logitRows.count, vocabularySize) f32). Returns the attention work of each
    /// segment (summed over layers), in segment order.
    @discardableResult
    public func forward(_ batch: ForwardBatch, logits: UnsafeMutablePointer<Float>) -> [AttentionWork] {
        let tokenCount = batch.tokens.count
        var work = [AttentionWork](repeating: AttentionWork(), count: batch.segments.count)
        guard tokenCount > 0 else { return work }
        scratch.ensure(tokens: tokenCount)
        let hidden = config.hiddenSize
        let queryWidth = config.queryWidth, kvWidth = config.kvWidth, feedForward = config.feedForwardSize
        let s = scratch

        for (index, token) in batch.tokens.enumerated() {
            precondition(token >= 0 && Int(token) < config.vocabularySize, "token id \(token) outside the vocabulary")
            weights.embedding.lookup(token, into: s.residual + index * hidden)
        }
        for segment in batch.segments {
            for offset in 0..<segment.tokenCount {
                s.positions[segment.tokenStart + offset] = Int32(segment.kv.positionCount + offset)
            }
        }
        config.rope.fillTable(positions: s.positions, count: tokenCount, table: s.rope)

        for (layerIndex, layer) in weights.layers.enumerated() {
            RMSNorm.apply(input: s.residual, inputStride: hidden, weight: layer.attentionNorm, output: s.normed,
                          outputStride: hidden, rowCount: tokenCount, width: hidden, epsilon: config.rmsNormEpsilon)
            layer.queryKeyValue.multiply(input: s.normed, rowCount: tokenCount, outputs: s.queryKeyValueOutputs,
                                         pool: threads, scratch: s.matmul)
            if let bias = layer.queryBias { Elementwise.addBias(s.query, stride: queryWidth, rowCount: tokenCount, bias: bias, width: queryWidth) }
            if let bias = layer.keyBias { Elementwise.addBias(s.key, stride: kvWidth, rowCount: tokenCount, bias: bias, width: kvWidth) }
            if let bias = layer.valueBias { Elementwise.addBias(s.value, stride: kvWidth, rowCount: tokenCount, bias: bias, width: kvWidth) }
            config.rope.apply(s.query, rowStride: queryWidth, rowCount: tokenCount, headCount: config.queryHeadCount,
                              headDim: config.headDim, table: s.rope)
            config.rope.apply(s.key, rowStride: kvWidth, rowCount: tokenCount, headCount: config.kvHeadCount,
                              headDim: config.headDim, table: s.rope)

            for (segmentIndex, segment) in batch.segments.enumerated() {
                let first = segment.tokenStart
                segment.kv.append(layer: layerIndex, count: segment.tokenCount, keys: s.key + first * kvWidth,
                                  values: s.value + first * kvWidth, rowStride: kvWidth)
                let queries = AttentionQueries(base: s.query + first * queryWidth, tokenStride: queryWidth,
                                               tokenCount: segment.tokenCount, firstPosition: segment.kv.positionCount)
                let output = AttentionOutput(base: s.attention + first * queryWidth, tokenStride: queryWidth)
                segment.observation?.record(layer: layerIndex, queries: queries)
                if !segment.attention.isDense && segment.tokenCount >= Self.sparseMinimumTokens {
                    work[segmentIndex] += sparsePrefill.run(layer: layerIndex, policy: segment.attention, queries: queries,
                                                            kv: segment.kv, output: output,
                                                            denseFromPosition: segment.denseFromPosition)
                } else {
                    attention.run(layer: layerIndex, queries: queries, kv: segment.kv, output: output)
                    var dense = AttentionWork()
                    dense.pairsDense = AttentionWork.densePairs(firstPosition: queries.firstPosition, tokenCount: queries.tokenCount,
                                                                queryHeadCount: config.queryHeadCount)
                    dense.pairsComputed = dense.pairsDense
                    work[segmentIndex] += dense
                }
            }
            layer.attentionOutput.multiply(input: s.attention, rowCount: tokenCount, output: s.projection, pool: threads, scratch: s.matmul)
            Elementwise.add(s.residual, s.projection, count: tokenCount * hidden)

            RMSNorm.apply(input: s.residual, inputStride: hidden, weight: layer.feedForwardNorm, output: s.normed,
                          outputStride: hidden, rowCount: tokenCount, width: hidden, epsilon: config.rmsNormEpsilon)
            layer.gateUp.multiply(input: s.normed, rowCount: tokenCount, outputs: s.gateUpOutputs, pool: threads, scratch: s.matmul)
            threads.parallelRanges(tokenCount * feedForward, granularity: 64) { range in
                Elementwise.swiGLU(gate: s.gate + range.lowerBound, up: s.up + range.lowerBound, count: range.count)
            }
            layer.down.multiply(input: s.gate, rowCount: tokenCount, output: s.projection, pool: threads, scratch: s.matmul)
            Elementwise.add(s.residual, s.projection, count: tokenCount * hidden)
        }
        for segment in batch.segments {
            segment.kv.advance(to: segment.kv.positionCount + segment.tokenCount)
        }

        let logitCount = batch.logitRows.count
        guard logitCount > 0 else { return work }
        for (outputRow, tokenIndex) in batch.logitRows.enumerated() {
            RMSNorm.apply(input: s.residual + tokenIndex * hidden, inputStride: hidden, weight: weights.outputNorm,
                          output: s.normed + outputRow * hidden, outputStride: hidden, rowCount: 1, width: hidden,
                          epsilon: config.rmsNormEpsilon)
        }
        weights.output.multiply(input: s.normed, rowCount: logitCount, output: logits, pool: threads, scratch: s.matmul)
        return work
    }
}
