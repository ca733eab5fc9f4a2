import Kernels

/// Activation buffers of the forward pass, grown to the largest batch seen (no per-token
/// allocation once warm).
final class ForwardScratch: @unchecked Sendable {
    private(set) var tokenCapacity = 0
    private let config: ModelConfig
    private var buffers: [UnsafeMutablePointer<Float>] = []

    var residual: UnsafeMutablePointer<Float> = .allocate(capacity: 1)     // (tokens, hidden)
    var normed: UnsafeMutablePointer<Float> = .allocate(capacity: 1)       // (tokens, hidden)
    var query: UnsafeMutablePointer<Float> = .allocate(capacity: 1)        // (tokens, queryWidth)
    var key: UnsafeMutablePointer<Float> = .allocate(capacity: 1)          // (tokens, kvWidth)
    var value: UnsafeMutablePointer<Float> = .allocate(capacity: 1)        // (tokens, kvWidth)
    var attention: UnsafeMutablePointer<Float> = .allocate(capacity: 1)    // (tokens, queryWidth)
    var projection: UnsafeMutablePointer<Float> = .allocate(capacity: 1)   // (tokens, hidden)
    var gate: UnsafeMutablePointer<Float> = .allocate(capacity: 1)         // (tokens, feedForward)
    var up: UnsafeMutablePointer<Float> = .allocate(capacity: 1)           // (tokens, feedForward)
    var rope: UnsafeMutablePointer<Float> = .allocate(capacity: 1)         // (tokens, ropeDims/2, 2)
    var positions: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)    // (tokens)
    let matmul = MatMulScratch()
    /// Output lists of the grouped multiplies, kept so decode steps allocate nothing.
    var queryKeyValueOutputs: [UnsafeMutablePointer<Float>] = []
    var gateUpOutputs: [UnsafeMutablePointer<Float>] = []

    init(config: ModelConfig) {
        self.config = config
    }

    func ensure(tokens: Int) {
        guard tokens > tokenCapacity else { return }
        releaseAll()
        tokenCapacity = max(tokens, tokenCapacity * 2)
        let t = tokenCapacity
        func make(_ width: Int) -> UnsafeMutablePointer<Float> {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: t * width)
            buffer.initialize(repeating: 0, count: t * width)
            buffers.append(buffer)
            return buffer
        }
        residual = make(config.hiddenSize)
        normed = make(config.hiddenSize)
        query = make(config.queryWidth)
        key = make(config.kvWidth)
        value = make(config.kvWidth)
        attention = make(config.queryWidth)
        projection = make(config.hiddenSize)
        gate = make(config.feedForwardSize)
        up = make(config.feedForwardSize)
        rope = make(config.rope.dimensionCount)
        positions = .allocate(capacity: t)
        queryKeyValueOutputs = [query, key, value]
        gateUpOutputs = [gate, up]
    }

    private func releaseAll() {
        for buffer in buffers { buffer.deallocate() }
        buffers.removeAll()
        if tokenCapacity > 0 { positions.deallocate() }
    }

    deinit { releaseAll() }
}
