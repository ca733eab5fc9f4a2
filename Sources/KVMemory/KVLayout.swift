/// Element type of cached keys and values.
public enum KVDataType: String, Sendable, CaseIterable {
    /// IEEE half precision (the default: half the bytes of f32, exact enough for attention).
    case f16
    /// Single precision (for checks against the fp32 reference).
    case f32

    public var bytesPerElement: Int {
        switch self {
        case .f16: return 2
        case .f32: return 4
        }
    }
}

/// Shape of the KV cache of one model: what a block holds and how many exist per token.
///
/// A block holds `blockTokens` consecutive cache entries of ONE (layer, KV head):
/// keys transposed, `(headDim, blockTokens)`, so the keys of a block are one 16-lane vector per
/// dimension; then values `(blockTokens, headDim)`. Both in `dataType`.
public struct KVLayout: Sendable, Equatable {
    /// Entries per block. 16 = one AVX-512 vector of fp32 scores per dimension.
    public static let blockTokens = 16
    /// Tokens per selection block: key min/max summaries are kept at this granularity
    /// (the 8-token block of the EntropyInfer method).
    public static let selectionBlockTokens = 8
    public static let selectionBlocksPerBlock = blockTokens / selectionBlockTokens

    public let layerCount: Int
    public let kvHeadCount: Int
    public let headDim: Int
    public let dataType: KVDataType

    public init(layerCount: Int, kvHeadCount: Int, headDim: Int, dataType: KVDataType = .f16) {
        precondition(layerCount > 0 && kvHeadCount > 0 && headDim > 0 && headDim % 16 == 0,
                     "head dimension must be a positive multiple of 16")
        self.layerCount = layerCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.dataType = dataType
    }

    /// Bytes of keys in one block.
    public var keyBytesPerBlock: Int { headDim * Self.blockTokens * dataType.bytesPerElement }
    /// Bytes of one block (keys then values).
    public var bytesPerBlock: Int { 2 * keyBytesPerBlock }
    /// Bytes of the key min/max summaries of one block: (selectionBlocksPerBlock, 2, headDim) f16.
    public var summaryBytesPerBlock: Int { Self.selectionBlocksPerBlock * 2 * headDim * 2 }
    /// Cache streams of one token: one per (layer, KV head).
    public var streamCount: Int { layerCount * kvHeadCount }
    /// Bytes that one cached token costs across all layers and heads (blocks fully used).
    public var bytesPerToken: Int { streamCount * bytesPerBlock / Self.blockTokens }

    /// Index of the (layer, kvHead) stream.
    @inline(__always)
    public func stream(layer: Int, kvHead: Int) -> Int { layer * kvHeadCount + kvHead }
}
