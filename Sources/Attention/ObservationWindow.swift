/// The post-RoPE queries of a session's most recent tokens in every layer, for scoring its KV
/// cache (KV compression): a ring of `capacity` token slots (position p lives in slot
/// p mod capacity), allocated once per session and written by the forward pass, so decode steps
/// allocate nothing. Owned by the engine thread.
public final class ObservationWindow: @unchecked Sendable {
    public let capacity: Int
    public let layerCount: Int
    /// Floats of one token's queries: queryHeadCount × headDim.
    public let queryWidth: Int
    /// (layerCount, capacity, queryWidth)
    private let storage: UnsafeMutablePointer<Float>
    /// Position held by each slot (-1: empty).
    private var slotPositions: [Int]

    public init(capacity: Int, layerCount: Int, queryWidth: Int) {
        precondition(capacity > 0 && layerCount > 0 && queryWidth > 0)
        self.capacity = capacity
        self.layerCount = layerCount
        self.queryWidth = queryWidth
        storage = .allocate(capacity: layerCount * capacity * queryWidth)
        storage.initialize(repeating: 0, count: layerCount * capacity * queryWidth)
        slotPositions = Array(repeating: -1, count: capacity)
    }

    deinit { storage.deallocate() }

    /// Bytes the window holds.
    public var byteCount: Int { layerCount * capacity * queryWidth * MemoryLayout<Float>.size }

    /// Forgets every recorded query (the session's cache was dropped).
    public func reset() {
        for slot in 0..<capacity { slotPositions[slot] = -1 }
    }

    /// Copies the queries of the last `capacity` tokens of `queries` for `layer`.
    public func record(layer: Int, queries: AttentionQueries) {
        let first = max(0, queries.tokenCount - capacity)
        for token in first..<queries.tokenCount {
            let position = queries.firstPosition + token
            let slot = position % capacity
            (storage + (layer * capacity + slot) * queryWidth).update(from: queries.base + token * queries.tokenStride,
                                                                      count: queryWidth)
            slotPositions[slot] = position
        }
    }

    /// The slots holding positions [end − count, end), oldest first (positions not recorded are
    /// skipped).
    public func slots(endingAt end: Int, count: Int) -> [(slot: Int, position: Int)] {
        var result: [(slot: Int, position: Int)] = []
        result.reserveCapacity(min(count, capacity))
        for position in max(0, end - min(count, capacity))..<max(0, end) where slotPositions[position % capacity] == position {
            result.append((position % capacity, position))
        }
        return result
    }

    /// The queries (queryWidth floats) of `slot` in `layer`.
    public func queries(layer: Int, slot: Int) -> UnsafePointer<Float> {
        UnsafePointer(storage + (layer * capacity + slot) * queryWidth)
    }
}
