import CKernels

/// The KV cache of one session: a block table per (layer, KV head) stream over the shared pool.
///
/// Entries are appended in position order. Each block records the absolute position of its
/// first entry and how many entries it holds; entries inside a block have consecutive positions,
/// so a stream may later hold a compacted subset of positions (compression) without a layout
/// change. Blocks shared with other sessions (prefix reuse) are copied before they are written.
///
/// Not thread-safe: the engine thread owns it. Capacity is reserved up front (`reserve`) so a
/// forward pass never runs out of blocks half-way.
public final class KVSequence: @unchecked Sendable {
    public let pool: KVBlockPool
    public var layout: KVLayout { pool.layout }

    /// Per stream (layer-major, then KV head): block ids, first position and fill of each block.
    private var blockIDs: [[KVBlockID]]
    private var firstPositions: [[Int32]]
    private var fills: [[Int32]]
    /// Blocks reserved for upcoming appends, per stream.
    private var reserved: [[KVBlockID]]

    /// Positions [0, positionCount) have been processed into this cache.
    public private(set) var positionCount = 0

    public init(pool: KVBlockPool) {
        self.pool = pool
        let streams = pool.layout.streamCount
        blockIDs = Array(repeating: [], count: streams)
        firstPositions = Array(repeating: [], count: streams)
        fills = Array(repeating: [], count: streams)
        reserved = Array(repeating: [], count: streams)
    }

    deinit { releaseAll() }

    // MARK: - Capacity

    /// Blocks a stream needs to append `count` entries starting at `position`.
    private func blocksNeeded(stream: Int, position: Int, count: Int) -> Int {
        guard count > 0 else { return 0 }
        var room = 0
        if let last = blockIDs[stream].last, let fill = fills[stream].last,
           Int(firstPositions[stream].last!) + Int(fill) == position, fill < KVLayout.blockTokens {
            room = KVLayout.blockTokens - Int(fill)
            if pool.referenceCount(last) > 1 {
                // Writing into a shared block needs a private copy first.
                return 1 + max(0, (count - room + KVLayout.blockTokens - 1) / KVLayout.blockTokens)
            }
        }
        let extra = max(0, count - room)
        return (extra + KVLayout.blockTokens - 1) / KVLayout.blockTokens - reserved[stream].count
    }

    /// Blocks needed to append `count` tokens at `positionCount` in every stream.
    public func blocksNeeded(appending count: Int) -> Int {
        (0..<layout.streamCount).reduce(0) { $0 + max(0, blocksNeeded(stream: $1, position: positionCount, count: count)) }
    }

    /// Reserves blocks so that `count` more tokens can be appended to every stream; all or nothing.
    public func reserve(appending count: Int) throws(KVMemoryError) {
        let needed = blocksNeeded(appending: count)
        guard needed <= pool.freeBlockCount else { throw .outOfBlocks(needed: needed, free: pool.freeBlockCount) }
        for stream in 0..<layout.streamCount {
            let streamNeed = blocksNeeded(stream: stream, position: positionCount, count: count)
            for _ in 0..<max(0, streamNeed) { reserved[stream].append(pool.allocate()!) }
        }
    }

    // MARK: - Writing

    /// Appends `count` entries for positions [positionCount, positionCount + count) to every KV
    /// head of `layer`. keys, values: (count, kvHeadCount, headDim) f32, token rows `rowStride`
    /// floats apart. Capacity must have been reserved.
    public func append(layer: Int, count: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, rowStride: Int) {
        let headDim = layout.headDim
        for kvHead in 0..<layout.kvHeadCount {
            let stream = layout.stream(layer: layer, kvHead: kvHead)
            var written = 0
            while written < count {
                let position = positionCount + written
                let slot = prepareBlock(stream: stream, position: position)
                let id = blockIDs[stream].last!
                let take = min(count - written, KVLayout.blockTokens - slot)
                let keyRows = keys + written * rowStride + kvHead * headDim
                let valueRows = values + written * rowStride + kvHead * headDim
                switch layout.dataType {
                case .f16:
                    ei_kv_store_f16(pool.block(id), Int32(headDim), Int32(slot), Int32(take), keyRows, rowStride, valueRows, rowStride)
                case .f32:
                    ei_kv_store_f32(pool.block(id), Int32(headDim), Int32(slot), Int32(take), keyRows, rowStride, valueRows, rowStride)
                }
                fills[stream][fills[stream].count - 1] = Int32(slot + take)
                updateSummaries(block: id, from: slot, to: slot + take)
                written += take
            }
        }
    }

    /// Makes the stream's last block ready to receive `position`; returns the slot to write.
    private func prepareBlock(stream: Int, position: Int) -> Int {
        if let last = blockIDs[stream].last, let fill = fills[stream].last,
           fill < KVLayout.blockTokens, Int(firstPositions[stream].last!) + Int(fill) == position {
            if pool.referenceCount(last) > 1 {
                let copy = reserved[stream].removeLast()
                pool.copy(last, to: copy)
                pool.release(last)
                blockIDs[stream][blockIDs[stream].count - 1] = copy
            }
            return Int(fill)
        }
        precondition(!reserved[stream].isEmpty, "KV append without reserved capacity")
        blockIDs[stream].append(reserved[stream].removeLast())
        firstPositions[stream].append(Int32(position))
        fills[stream].append(0)
        return 0
    }

    /// Recomputes the min/max summaries of the selection blocks touched by slots [from, to).
    private func updateSummaries(block id: KVBlockID, from: Int, to: Int) {
        let perSelection = KVLayout.selectionBlockTokens
        let headDim = layout.headDim
        let filled = to
        for selection in (from / perSelection)...((to - 1) / perSelection) {
            let first = selection * perSelection
            let count = min(filled, first + perSelection) - first
            ei_kv_summarize(pool.block(id), Int32(headDim), layout.dataType == .f16 ? 1 : 0, Int32(first), Int32(count),
                            pool.summary(id) + selection * 2 * headDim)
        }
    }

    /// Marks positions up to `newCount` as processed (after every layer appended them).
    public func advance(to newCount: Int) {
        precondition(newCount >= positionCount, "positions only grow")
        positionCount = newCount
    }

    // MARK: - Reading

    /// Number of entries cached in a stream.
    public func entryCount(layer: Int, kvHead: Int) -> Int {
        fills[layout.stream(layer: layer, kvHead: kvHead)].reduce(0) { $0 + Int($1) }
    }

    /// Number of blocks of a stream.
    public func blockCount(layer: Int, kvHead: Int) -> Int {
        blockIDs[layout.stream(layer: layer, kvHead: kvHead)].count
    }

    /// Calls `body` with the block list of one stream, valid only during the call.
    public func withBlockList<R>(layer: Int, kvHead: Int, _ body: (ei_kv_block_list) throws -> R) rethrows -> R {
        let stream = layout.stream(layer: layer, kvHead: kvHead)
        return try blockIDs[stream].withUnsafeBufferPointer { ids in
            try firstPositions[stream].withUnsafeBufferPointer { firsts in
                try fills[stream].withUnsafeBufferPointer { fillCounts in
                    let list = ei_kv_block_list(
                        poolBase: UnsafeRawPointer(pool.block(0)).assumingMemoryBound(to: UInt8.self),
                        blockBytes: layout.bytesPerBlock,
                        blockIDs: ids.baseAddress, firstPositions: firsts.baseAddress, fills: fillCounts.baseAddress,
                        blockCount: Int32(ids.count), isF16: layout.dataType == .f16 ? 1 : 0)
                    return try body(list)
                }
            }
        }
    }

    /// Block ids of a stream (for prefix caching and introspection).
    public func blocks(layer: Int, kvHead: Int) -> [KVBlockID] {
        blockIDs[layout.stream(layer: layer, kvHead: kvHead)]
    }

    /// Bytes of pool memory this session holds (shared blocks counted in full).
    public var heldBytes: Int {
        (blockIDs.reduce(0) { $0 + $1.count } + reserved.reduce(0) { $0 + $1.count }) * layout.bytesPerBlock
    }

    // MARK: - Prefix sharing

    /// Starts an empty cache from cached full blocks: `prefix[i]` holds the (streamCount) block
    /// ids of positions [16i, 16i+16). Each block gains a reference.
    public func adopt(prefix: [[KVBlockID]]) {
        precondition(positionCount == 0 && blockIDs.allSatisfy(\.isEmpty), "adopt needs an empty cache")
        for (index, streamBlocks) in prefix.enumerated() {
            precondition(streamBlocks.count == layout.streamCount, "a cached block per stream")
            for (stream, id) in streamBlocks.enumerated() {
                pool.retain(id)
                blockIDs[stream].append(id)
                firstPositions[stream].append(Int32(index * KVLayout.blockTokens))
                fills[stream].append(Int32(KVLayout.blockTokens))
            }
        }
        positionCount = prefix.count * KVLayout.blockTokens
    }

    /// The (streamCount) block ids holding positions [16i, 16i+16) when every stream holds
    /// exactly those positions in its i-th block (uncompressed and full), else nil.
    public func streamBlocks(atBlock index: Int) -> [KVBlockID]? {
        var result: [KVBlockID] = []
        result.reserveCapacity(layout.streamCount)
        for stream in 0..<layout.streamCount {
            guard index < blockIDs[stream].count, firstPositions[stream][index] == Int32(index * KVLayout.blockTokens),
                  fills[stream][index] == Int32(KVLayout.blockTokens) else { return nil }
            result.append(blockIDs[stream][index])
        }
        return result
    }

    // MARK: - Lifetime

    /// Returns every block to the pool and empties the cache.
    public func releaseAll() {
        for stream in 0..<blockIDs.count {
            for id in blockIDs[stream] { pool.release(id) }
            for id in reserved[stream] { pool.release(id) }
            blockIDs[stream].removeAll()
            firstPositions[stream].removeAll()
            fills[stream].removeAll()
            reserved[stream].removeAll()
        }
        positionCount = 0
    }
}
