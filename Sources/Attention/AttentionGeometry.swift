/// Head layout of a model's attention.
public struct AttentionGeometry: Sendable, Equatable {
    public let queryHeadCount: Int
    public let kvHeadCount: Int
    public let headDim: Int
    /// Multiplies q·k (1/√headDim unless the model says otherwise).
    public let scale: Float

    public init(queryHeadCount: Int, kvHeadCount: Int, headDim: Int, scale: Float? = nil) {
        precondition(queryHeadCount % kvHeadCount == 0, "query heads must be a multiple of KV heads")
        self.queryHeadCount = queryHeadCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.scale = scale ?? 1 / Float(headDim).squareRoot()
    }

    /// Query heads that share one KV head (GQA group size).
    public var groupSize: Int { queryHeadCount / kvHeadCount }
}

/// The queries of one session's consecutive tokens in a forward batch.
public struct AttentionQueries {
    /// (tokenCount, queryHeadCount, headDim) f32; token t starts at `base + t * tokenStride`.
    public var base: UnsafePointer<Float>
    public var tokenStride: Int
    public var tokenCount: Int
    /// Absolute position of the first token; token t is at `firstPosition + t`.
    public var firstPosition: Int

    public init(base: UnsafePointer<Float>, tokenStride: Int, tokenCount: Int, firstPosition: Int) {
        self.base = base; self.tokenStride = tokenStride; self.tokenCount = tokenCount; self.firstPosition = firstPosition
    }
}

/// Where attention writes: (tokenCount, queryHeadCount * headDim) f32, token rows `tokenStride` apart.
public struct AttentionOutput {
    public var base: UnsafeMutablePointer<Float>
    public var tokenStride: Int

    public init(base: UnsafeMutablePointer<Float>, tokenStride: Int) {
        self.base = base; self.tokenStride = tokenStride
    }
}
