import CKernels

/// The KV cache of one session: a block table per (layer, KV head) stream over the shared pool.
///
/// Entries are appended in position order. Each block records the absolute position of its
/// first entry and how many entries it holds; entries inside a block have consecutive positions.
/// Compression (`compact`) rewrites a stream to a subset of its entries packed into fresh blocks
/// marked always visible (`EI_POSITION_ALWAYS_VISIBLE`: every kept entry lies before any later
/// query), remembering each kept entry's original position; keys keep the RoPE of their original
/// positions and new entries continue at `positionCount`. Blocks shared with other sessions
/// (prefix reuse) are never written: appends copy them first, compaction copies the kept entries
/// out and only drops its reference.
///
/// A stream normally has one *lane* (block list) that every query head of its group reads. The
/// GQA-expanding baselines (`snapkv`, `latent` as released) split a stream into one lane per
/// query head of the group; appends then write every lane (the released code's expanded cache).
///
/// Not thread-safe: the engine thread owns it. Capacity is reserved up front (`reserve`) so a
/// forward pass never runs out of blocks half-way.
public final class KVSequence: @unchecked Sendable {
    public let pool: KVBlockPool
    public var layout: KVLayout { pool.layout }

    /// Per lane (lanes 0..<streamCount are the streams' own; split streams add more): block ids,
    /// first position and fill of each block.
    private var blockIDs: [[KVBlockID]]
    private var firstPositions: [[Int32]]
    private var fills: [[Int32]]
    /// Blocks reserved for upcoming appends, per lane.
    private var reserved: [[KVBlockID]]
    /// Per lane: entries held, and the original positions of the entries of its compacted
    /// blocks (always a prefix of the lane's blocks), in order.
    private var entryCounts: [Int]
    private var compactedPositions: [[Int32]]
    /// Per stream: its lanes, one per query head of the group, when split; empty otherwise.
    private var memberLanes: [[Int]]
    private var splitStreamCount = 0

    /// Positions [0, positionCount) have been processed into this cache.
    public private(set) var positionCount = 0

    public init(pool: KVBlockPool) {
        self.pool = pool
        let streams = pool.layout.streamCount
        blockIDs = Array(repeating: [], count: streams)
        firstPositions = Array(repeating: [], count: streams)
        fills = Array(repeating: [], count: streams)
        reserved = Array(repeating: [], count: streams)
        entryCounts = Array(repeating: 0, count: streams)
        compactedPositions = Array(repeating: [], count: streams)
        memberLanes = Array(repeating: [], count: streams)
    }

    deinit { releaseAll() }

    @inline(__always)
    private func lane(stream: Int, member: Int) -> Int {
        memberLanes[stream].isEmpty ? stream : memberLanes[stream][member]
    }

    /// Calls `body` with every lane of `stream`.
    @inline(__always)
    private func forEachLane(of stream: Int, _ body: (Int) -> Void) {
        if memberLanes[stream].isEmpty {
            body(stream)
        } else {
            for lane in memberLanes[stream] { body(lane) }
        }
    }

    // MARK: - Capacity

    /// Blocks a lane needs to append `count` entries starting at `position`.
    private func blocksNeeded(lane: Int, position: Int, count: Int) -> Int {
        guard count > 0 else { return 0 }
        var room = 0
        if let last = blockIDs[lane].last, let fill = fills[lane].last,
           Int(firstPositions[lane].last!) + Int(fill) == position, fill < KVLayout.blockTokens {
            room = KVLayout.blockTokens - Int(fill)
            if pool.referenceCount(last) > 1 {
                // Writing into a shared block needs a private copy first.
                return 1 + max(0, (count - room + KVLayout.blockTokens - 1) / KVLayout.blockTokens)
            }
        }
        let extra = max(0, count - room)
        return (extra + KVLayout.blockTokens - 1) / KVLayout.blockTokens - reserved[lane].count
    }

    /// Blocks needed to append `count` tokens at `positionCount` in every stream.
    public func blocksNeeded(appending count: Int) -> Int {
        var total = 0
        for stream in 0..<layout.streamCount {
            forEachLane(of: stream) { total += max(0, blocksNeeded(lane: $0, position: positionCount, count: count)) }
        }
        return total
    }

    /// Reserves blocks so that `count` more tokens can be appended to every stream; all or nothing.
    public func reserve(appending count: Int) throws(KVMemoryError) {
        let needed = blocksNeeded(appending: count)
        guard needed <= pool.freeBlockCount else { throw .outOfBlocks(needed: needed, free: pool.freeBlockCount) }
        for stream in 0..<layout.streamCount {
            forEachLane(of: stream) { lane in
                let laneNeed = blocksNeeded(lane: lane, position: positionCount, count: count)
                for _ in 0..<max(0, laneNeed) { reserved[lane].append(pool.allocate()!) }
            }
        }
    }

    // MARK: - Writing

    /// Appends `count` entries for positions [positionCount, positionCount + count) to every KV
    /// head of `layer` (every lane of a split stream). keys, values: (count, kvHeadCount,
    /// headDim) f32, token rows `rowStride` floats apart. Capacity must have been reserved.
    public func append(layer: Int, count: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, rowStride: Int) {
        let headDim = layout.headDim
        for kvHead in 0..<layout.kvHeadCount {
            let stream = layout.stream(layer: layer, kvHead: kvHead)
            forEachLane(of: stream) { lane in
                var written = 0
                while written < count {
                    let position = positionCount + written
                    let slot = prepareBlock(lane: lane, position: position)
                    let id = blockIDs[lane].last!
                    let take = min(count - written, KVLayout.blockTokens - slot)
                    let keyRows = keys + written * rowStride + kvHead * headDim
                    let valueRows = values + written * rowStride + kvHead * headDim
                    switch layout.dataType {
                    case .f16:
                        ei_kv_store_f16(pool.block(id), Int32(headDim), Int32(slot), Int32(take), keyRows, rowStride, valueRows, rowStride)
                    case .f32:
                        ei_kv_store_f32(pool.block(id), Int32(headDim), Int32(slot), Int32(take), keyRows, rowStride, valueRows, rowStride)
                    }
                    fills[lane][fills[lane].count - 1] = Int32(slot + take)
                    updateSummaries(block: id, from: slot, to: slot + take)
                    written += take
                }
                entryCounts[lane] += count
            }
        }
    }

    /// Makes the lane's last block ready to receive `position`; returns the slot to write.
    private func prepareBlock(lane: Int, position: Int) -> Int {
        if let last = blockIDs[lane].last, let fill = fills[lane].last,
           fill < KVLayout.blockTokens, Int(firstPositions[lane].last!) + Int(fill) == position {
            if pool.referenceCount(last) > 1 {
                let copy = reserved[lane].removeLast()
                pool.copy(last, to: copy)
                pool.release(last)
                blockIDs[lane][blockIDs[lane].count - 1] = copy
            }
            return Int(fill)
        }
        precondition(!reserved[lane].isEmpty, "KV append without reserved capacity")
        blockIDs[lane].append(reserved[lane].removeLast())
        firstPositions[lane].append(Int32(position))
        fills[lane].append(0)
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

    /// Lanes of a stream: 1, or the query group's size once split per query head.
    public func memberCount(layer: Int, kvHead: Int) -> Int {
        max(1, memberLanes[layout.stream(layer: layer, kvHead: kvHead)].count)
    }

    /// Whether any stream of `layer` is split per query head (sparse prefill then runs dense).
    public func hasSplitStreams(layer: Int) -> Bool {
        guard splitStreamCount > 0 else { return false }
        return (0..<layout.kvHeadCount).contains { !memberLanes[layout.stream(layer: layer, kvHead: $0)].isEmpty }
    }

    /// Whether the cache holds compacted entries (it is then never offered to the prefix cache).
    public var isCompacted: Bool { splitStreamCount > 0 || compactedPositions.contains { !$0.isEmpty } }

    /// Number of entries cached in a stream (in lane `member` of a split one).
    public func entryCount(layer: Int, kvHead: Int, member: Int = 0) -> Int {
        entryCounts[lane(stream: layout.stream(layer: layer, kvHead: kvHead), member: member)]
    }

    /// The largest entry count over every lane of `layer`.
    public func largestEntryCount(layer: Int) -> Int {
        var largest = 0
        for kvHead in 0..<layout.kvHeadCount {
            forEachLane(of: layout.stream(layer: layer, kvHead: kvHead)) { largest = max(largest, entryCounts[$0]) }
        }
        return largest
    }

    /// Entries held over every lane of every stream.
    public var totalEntryCount: Int { entryCounts.reduce(0, +) }

    /// Number of blocks of a stream (of lane `member` of a split one).
    public func blockCount(layer: Int, kvHead: Int, member: Int = 0) -> Int {
        blockIDs[lane(stream: layout.stream(layer: layer, kvHead: kvHead), member: member)].count
    }

    /// Calls `body` with the block list of one stream (lane `member` of a split one), valid only
    /// during the call.
    public func withBlockList<R>(layer: Int, kvHead: Int, member: Int = 0, _ body: (ei_kv_block_list) throws -> R) rethrows -> R {
        let lane = lane(stream: layout.stream(layer: layer, kvHead: kvHead), member: member)
        return try blockIDs[lane].withUnsafeBufferPointer { ids in
            try firstPositions[lane].withUnsafeBufferPointer { firsts in
                try fills[lane].withUnsafeBufferPointer { fillCounts in
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

    /// Block ids of a stream (lane `member` of a split one), for prefix caching and introspection.
    public func blocks(layer: Int, kvHead: Int, member: Int = 0) -> [KVBlockID] {
        blockIDs[lane(stream: layout.stream(layer: layer, kvHead: kvHead), member: member)]
    }

    /// Original positions of a stream's entries, in order (lane `member` of a split one).
    public func positions(layer: Int, kvHead: Int, member: Int = 0) -> [Int32] {
        positions(lane: lane(stream: layout.stream(layer: layer, kvHead: kvHead), member: member))
    }

    private func positions(lane: Int) -> [Int32] {
        var result = compactedPositions[lane]
        result.reserveCapacity(entryCounts[lane])
        for (first, fill) in zip(firstPositions[lane], fills[lane]) where first != Int32.min {
            for offset in 0..<fill { result.append(first + offset) }
        }
        return result
    }

    /// Bytes of pool memory this session holds (shared blocks counted in full).
    public var heldBytes: Int {
        (blockIDs.reduce(0) { $0 + $1.count } + reserved.reduce(0) { $0 + $1.count }) * layout.bytesPerBlock
    }

    /// Bytes the same positions would hold uncompressed (full blocks, one lane per stream).
    public var uncompressedBytes: Int {
        (positionCount + KVLayout.blockTokens - 1) / KVLayout.blockTokens * layout.streamCount * layout.bytesPerBlock
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
                entryCounts[stream] += KVLayout.blockTokens
            }
        }
        positionCount = prefix.count * KVLayout.blockTokens
    }

    /// The (streamCount) block ids holding positions [16i, 16i+16) when every stream holds
    /// exactly those positions in its i-th block (uncompressed and full), else nil.
    public func streamBlocks(atBlock index: Int) -> [KVBlockID]? {
        guard splitStreamCount == 0 else { return nil }
        var result: [KVBlockID] = []
        result.reserveCapacity(layout.streamCount)
        for stream in 0..<layout.streamCount {
            guard index < blockIDs[stream].count, firstPositions[stream][index] == Int32(index * KVLayout.blockTokens),
                  fills[stream][index] == Int32(KVLayout.blockTokens) else { return nil }
            result.append(blockIDs[stream][index])
        }
        return result
    }

    // MARK: - Compression

    /// Blocks `compact(layer:kvHead:keep:)` would need from the pool beyond those it frees.
    public func compactionDeficit(layer: Int, kvHead: Int, keep: [[Int32]]) -> Int {
        let stream = layout.stream(layer: layer, kvHead: kvHead)
        let splitting = memberLanes[stream].isEmpty && keep.count > 1
        var freed = 0, needed = 0
        var counted = Set<Int>()
        for (member, list) in keep.enumerated() {
            let source = splitting ? stream : lane(stream: stream, member: member)
            if !splitting && list.count == entryCounts[source] { continue }
            needed += (list.count + KVLayout.blockTokens - 1) / KVLayout.blockTokens
            if counted.insert(source).inserted {
                freed += blockIDs[source].reduce(0) { $0 + (pool.referenceCount($1) == 1 ? 1 : 0) }
            }
        }
        return max(0, needed - freed - pool.freeBlockCount)
    }

    /// Rewrites one stream to the entries `keep` lists (ascending entry indices): `keep[m]` for
    /// lane m of a split stream, or — with one list per query head of the group (`groupSize`
    /// lists) on an unsplit stream — splits it, lane m taking `keep[m]` of the single lane.
    /// Kept entries are copied in order into fresh blocks (always visible, original positions
    /// remembered, key summaries rebuilt); the old blocks lose this session's reference at once,
    /// so private ones return to the pool and shared ones stay intact for their other holders.
    /// A lane whose list keeps every entry is left as it is.
    ///
    /// Returns false, changing nothing, when the pool cannot supply the blocks
    /// (`compactionDeficit` > 0).
    @discardableResult
    public func compact(layer: Int, kvHead: Int, keep: [[Int32]]) -> Bool {
        let stream = layout.stream(layer: layer, kvHead: kvHead)
        let currentMembers = max(1, memberLanes[stream].count)
        let splitting = currentMembers == 1 && keep.count > 1
        precondition(keep.count == currentMembers || splitting, "one keep list per lane, or per query head to split")
        guard compactionDeficit(layer: layer, kvHead: kvHead, keep: keep) == 0 else { return false }

        let headDim = layout.headDim
        let element = layout.dataType.bytesPerElement
        let entryBytes = 2 * headDim * element
        let tokens = KVLayout.blockTokens

        // 1. Copy every kept entry (key row, value row, in storage precision) out of the old blocks.
        var sourceLanes: [Int] = []
        var staged: [UnsafeMutableRawPointer?] = []
        var stagedPositions: [[Int32]] = []
        var unchanged: [Bool] = []
        var sourcePositions: [Int: [Int32]] = [:]
        for member in 0..<keep.count {
            let source = splitting ? stream : lane(stream: stream, member: member)
            sourceLanes.append(source)
            let list = keep[member]
            if !splitting && list.count == entryCounts[source] {
                staged.append(nil); stagedPositions.append([]); unchanged.append(true)
                continue
            }
            unchanged.append(false)
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, list.count * entryBytes), alignment: 64)
            if sourcePositions[source] == nil { sourcePositions[source] = positions(lane: source) }
            let allPositions = sourcePositions[source]!
            var kept: [Int32] = []
            kept.reserveCapacity(list.count)
            var block = 0, blockStart = 0, previous = -1
            for (row, entry) in list.enumerated() {
                let index = Int(entry)
                precondition(index > previous && index < entryCounts[source], "keep lists are ascending entry indices")
                previous = index
                while index >= blockStart + Int(fills[source][block]) {
                    blockStart += Int(fills[source][block])
                    block += 1
                }
                let base = pool.block(blockIDs[source][block])
                let slot = index - blockStart
                let destination = buffer + row * entryBytes
                for dimension in 0..<headDim {
                    (destination + dimension * element).copyMemory(from: base + (dimension * tokens + slot) * element, byteCount: element)
                }
                (destination + headDim * element).copyMemory(from: base + (tokens * headDim + slot * headDim) * element,
                                                             byteCount: headDim * element)
                kept.append(allPositions[index])
            }
            staged.append(buffer)
            stagedPositions.append(kept)
        }

        // 2. Drop the old blocks of every lane that changes (the source lane once when splitting).
        var released = Set<Int>()
        for member in 0..<keep.count where !unchanged[member] && !released.contains(sourceLanes[member]) {
            let lane = sourceLanes[member]
            released.insert(lane)
            for id in blockIDs[lane] { pool.release(id) }
            blockIDs[lane].removeAll(keepingCapacity: true)
            firstPositions[lane].removeAll(keepingCapacity: true)
            fills[lane].removeAll(keepingCapacity: true)
            entryCounts[lane] = 0
            compactedPositions[lane].removeAll()
        }

        // 3. Lanes of a new split: member 0 keeps the stream's own lane.
        if splitting {
            var lanes = [stream]
            for _ in 1..<keep.count {
                lanes.append(blockIDs.count)
                blockIDs.append([]); firstPositions.append([]); fills.append([]); reserved.append([])
                entryCounts.append(0); compactedPositions.append([])
            }
            memberLanes[stream] = lanes
            splitStreamCount += 1
        }

        // 4. Write the kept entries into fresh blocks.
        for member in 0..<keep.count where !unchanged[member] {
            let lane = lane(stream: stream, member: member)
            let buffer = staged[member]!
            let count = keep[member].count
            var row = 0
            while row < count {
                let take = min(tokens, count - row)
                let id = pool.allocate()!
                let base = pool.block(id)
                for slot in 0..<take {
                    let source = buffer + (row + slot) * entryBytes
                    for dimension in 0..<headDim {
                        (base + (dimension * tokens + slot) * element).copyMemory(from: source + dimension * element, byteCount: element)
                    }
                    (base + (tokens * headDim + slot * headDim) * element).copyMemory(from: source + headDim * element,
                                                                                       byteCount: headDim * element)
                }
                updateSummaries(block: id, from: 0, to: take)
                blockIDs[lane].append(id)
                firstPositions[lane].append(Int32.min)   // EI_POSITION_ALWAYS_VISIBLE
                fills[lane].append(Int32(take))
                row += take
            }
            entryCounts[lane] = count
            compactedPositions[lane] = stagedPositions[member]
            buffer.deallocate()
        }
        return true
    }

    // MARK: - Lifetime

    /// Returns every block to the pool and empties the cache.
    public func releaseAll() {
        for lane in 0..<blockIDs.count {
            for id in blockIDs[lane] { pool.release(id) }
            for id in reserved[lane] { pool.release(id) }
        }
        let streams = layout.streamCount
        if blockIDs.count > streams {
            blockIDs.removeSubrange(streams...)
            firstPositions.removeSubrange(streams...)
            fills.removeSubrange(streams...)
            reserved.removeSubrange(streams...)
            entryCounts.removeSubrange(streams...)
            compactedPositions.removeSubrange(streams...)
        }
        for lane in 0..<streams {
            blockIDs[lane].removeAll()
            firstPositions[lane].removeAll()
            fills[lane].removeAll()
            reserved[lane].removeAll()
            compactedPositions[lane].removeAll()
            entryCounts[lane] = 0
            memberLanes[lane].removeAll()
        }
        splitStreamCount = 0
        positionCount = 0
    }
}
