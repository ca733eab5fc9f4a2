import CKernels
import KVMemory
import Testing

/// `KVSequence.compact`: kept entries keep their data and original positions, freed blocks return
/// to the pool at once, blocks shared with another session are never written.
@Suite struct KVCompactionTests {
    let layout = KVLayout(layerCount: 2, kvHeadCount: 2, headDim: 16)
    static let row = 2 * 16   // kvHeads × headDim

    /// Key (or value) of `token`, head `kvHead`, dimension `dim`: distinct, and f16-exact for the
    /// positions used here (below 64, steps of 1/32).
    static func key(_ token: Int, _ kvHead: Int, _ dim: Int) -> Float { Float(token) + Float(kvHead * 16 + dim) / 32 }
    static func value(_ token: Int, _ kvHead: Int, _ dim: Int) -> Float { -Self.key(token, kvHead, dim) }

    func fill(_ sequence: KVSequence, from start: Int, count: Int) throws {
        let keys = (0..<count * Self.row).map { Self.key(start + $0 / Self.row, $0 % Self.row / 16, $0 % 16) }
        let values = (0..<count * Self.row).map { Self.value(start + $0 / Self.row, $0 % Self.row / 16, $0 % 16) }
        try sequence.reserve(appending: count)
        for layer in 0..<layout.layerCount {
            sequence.append(layer: layer, count: count, keys: keys, values: values, rowStride: Self.row)
        }
        sequence.advance(to: start + count)
    }

    /// The keys and values of every entry of a stream lane, in order, read from its blocks.
    func entries(_ sequence: KVSequence, layer: Int, kvHead: Int, member: Int = 0) -> [[Float]] {
        let pool = sequence.pool
        return sequence.withBlockList(layer: layer, kvHead: kvHead, member: member) { list in
            var result: [[Float]] = []
            for block in 0..<Int(list.blockCount) {
                let base = pool.block(list.blockIDs[block]).assumingMemoryBound(to: UInt16.self)
                for slot in 0..<Int(list.fills[block]) {
                    let key = (0..<16).map { ei_f16_to_f32(base[$0 * 16 + slot]) }
                    let value = (0..<16).map { ei_f16_to_f32(base[16 * 16 + slot * 16 + $0]) }
                    result.append(key + value)
                }
            }
            return result
        }
    }

    func expected(token: Int, kvHead: Int) -> [Float] {
        (0..<16).map { Self.key(token, kvHead, $0) } + (0..<16).map { Self.value(token, kvHead, $0) }
    }

    @Test func compactionKeepsEntriesAndPositionsAndFreesBlocks() throws {
        let pool = try KVBlockPool(layout: layout, budgetBytes: 1 << 20)
        let sequence = KVSequence(pool: pool)
        try fill(sequence, from: 0, count: 40)
        let free = pool.freeBlockCount
        let keep: [Int32] = [0, 1, 5, 20, 21, 22, 38, 39]
        #expect(sequence.compact(layer: 0, kvHead: 1, keep: [keep]))
        #expect(pool.freeBlockCount == free + 2, "3 blocks became 1")
        #expect(sequence.entryCount(layer: 0, kvHead: 1) == 8)
        #expect(sequence.positions(layer: 0, kvHead: 1) == keep)
        #expect(entries(sequence, layer: 0, kvHead: 1) == keep.map { expected(token: Int($0), kvHead: 1) })
        #expect(sequence.entryCount(layer: 0, kvHead: 0) == 40, "other streams untouched")
        #expect(sequence.isCompacted && sequence.streamBlocks(atBlock: 0) == nil, "compacted caches are never published")
        // Key summaries of the new block: min and max over the kept entries of each 8-entry unit.
        let block = sequence.blocks(layer: 0, kvHead: 1)[0]
        let summary = pool.summary(block)
        #expect(ei_f16_to_f32(summary[3]) == Self.key(0, 1, 3))              // unit 0 min row, dim 3
        #expect(ei_f16_to_f32(summary[16 + 3]) == Self.key(39, 1, 3))        // unit 0 max row, dim 3
        sequence.withBlockList(layer: 0, kvHead: 1) { list in
            #expect(list.firstPositions[0] == Int32.min, "compacted blocks are always visible")
        }

        // Appends continue at positionCount in a block of their own.
        try fill(sequence, from: 40, count: 2)
        #expect(sequence.positions(layer: 0, kvHead: 1) == keep + [40, 41])
        #expect(entries(sequence, layer: 0, kvHead: 1).suffix(2) == [expected(token: 40, kvHead: 1), expected(token: 41, kvHead: 1)])
        sequence.withBlockList(layer: 0, kvHead: 1) { list in
            #expect(list.blockCount == 2 && list.firstPositions[1] == 40 && list.fills[1] == 2)
        }

        // Compacting again works on the compacted layout.
        #expect(sequence.compact(layer: 0, kvHead: 1, keep: [[0, 7, 9]]))
        #expect(sequence.positions(layer: 0, kvHead: 1) == [0, 39, 41])
        #expect(entries(sequence, layer: 0, kvHead: 1) == [0, 39, 41].map { expected(token: $0, kvHead: 1) })
        sequence.releaseAll()
        #expect(pool.freeBlockCount == pool.blockCount)
    }

    @Test func keepingEverythingChangesNothing() throws {
        let pool = try KVBlockPool(layout: layout, budgetBytes: 1 << 20)
        let sequence = KVSequence(pool: pool)
        try fill(sequence, from: 0, count: 20)
        let blocks = sequence.blocks(layer: 1, kvHead: 0)
        #expect(sequence.compact(layer: 1, kvHead: 0, keep: [(0..<20).map { Int32($0) }]))
        #expect(sequence.blocks(layer: 1, kvHead: 0) == blocks)
        #expect(!sequence.isCompacted)
    }

    /// Session B shares A's first two blocks (a prefix-cache hit), then compresses every stream:
    /// A's blocks keep their bytes and B's reference is dropped.
    @Test func sharedPrefixBlocksAreNeverWritten() throws {
        let pool = try KVBlockPool(layout: layout, budgetBytes: 1 << 20)
        let a = KVSequence(pool: pool)
        try fill(a, from: 0, count: 40)
        let shared = [a.streamBlocks(atBlock: 0)!, a.streamBlocks(atBlock: 1)!]
        let bytes = layout.bytesPerBlock
        func snapshot() -> [[UInt8]] {
            shared.flatMap { $0 }.map { Array(UnsafeRawBufferPointer(start: pool.block($0), count: bytes)) }
        }
        let before = snapshot()
        let aEntries = entries(a, layer: 1, kvHead: 1)

        let b = KVSequence(pool: pool)
        b.adopt(prefix: shared)
        try fill(b, from: 32, count: 12)
        for id in shared.flatMap({ $0 }) { #expect(pool.referenceCount(id) == 2) }
        for layer in 0..<2 {
            for kvHead in 0..<2 {
                #expect(b.compact(layer: layer, kvHead: kvHead, keep: [[0, 3, 17, 31, 40, 43]]))
            }
        }
        #expect(snapshot() == before, "shared blocks untouched")
        for id in shared.flatMap({ $0 }) { #expect(pool.referenceCount(id) == 1, "B's reference dropped") }
        #expect(entries(a, layer: 1, kvHead: 1) == aEntries)
        #expect(entries(b, layer: 1, kvHead: 1) == [0, 3, 17, 31, 40, 43].map { expected(token: $0, kvHead: 1) })
        #expect(b.positions(layer: 0, kvHead: 0) == [0, 3, 17, 31, 40, 43])

        // A keeps decoding into its own blocks; its shared prefix is what it was.
        try fill(a, from: 40, count: 3)
        #expect(Array(entries(a, layer: 1, kvHead: 1).prefix(40)) == aEntries)
    }

    /// GQA-expanding baselines split a stream into one lane per query head; appends then write
    /// every lane.
    @Test func splittingGivesEachQueryHeadItsOwnLane() throws {
        let pool = try KVBlockPool(layout: layout, budgetBytes: 1 << 20)
        let sequence = KVSequence(pool: pool)
        try fill(sequence, from: 0, count: 40)
        let free = pool.freeBlockCount
        #expect(sequence.compact(layer: 1, kvHead: 0, keep: [[0, 2, 4, 39], [1, 3, 5, 6, 7, 39]]))
        #expect(sequence.memberCount(layer: 1, kvHead: 0) == 2 && sequence.memberCount(layer: 1, kvHead: 1) == 1)
        #expect(sequence.hasSplitStreams(layer: 1) && !sequence.hasSplitStreams(layer: 0))
        #expect(pool.freeBlockCount == free + 3 - 2)
        #expect(sequence.positions(layer: 1, kvHead: 0, member: 0) == [0, 2, 4, 39])
        #expect(sequence.positions(layer: 1, kvHead: 0, member: 1) == [1, 3, 5, 6, 7, 39])
        #expect(entries(sequence, layer: 1, kvHead: 0, member: 1) == [1, 3, 5, 6, 7, 39].map { expected(token: $0, kvHead: 0) })
        try fill(sequence, from: 40, count: 1)
        for member in 0..<2 {
            #expect(sequence.positions(layer: 1, kvHead: 0, member: member).last == 40)
            #expect(entries(sequence, layer: 1, kvHead: 0, member: member).last == expected(token: 40, kvHead: 0))
        }
        #expect(sequence.streamBlocks(atBlock: 0) == nil)
        sequence.releaseAll()
        #expect(pool.freeBlockCount == pool.blockCount)
        #expect(sequence.memberCount(layer: 1, kvHead: 0) == 1)
    }

    @Test func compactionWithoutRoomChangesNothing() throws {
        // 4 streams × 3 blocks of 40 entries, one block spare.
        let perBlock = layout.bytesPerBlock + layout.summaryBytesPerBlock
        let pool = try KVBlockPool(layout: layout, budgetBytes: 13 * perBlock)
        let sequence = KVSequence(pool: pool)
        try fill(sequence, from: 0, count: 40)
        #expect(pool.freeBlockCount == 1)
        // Splitting into two lanes of 40 entries needs 6 blocks; 3 are freed and 1 is free.
        let all = (0..<40).map { Int32($0) }
        #expect(sequence.compactionDeficit(layer: 0, kvHead: 0, keep: [all, all]) == 2)
        #expect(!sequence.compact(layer: 0, kvHead: 0, keep: [all, all]))
        #expect(sequence.memberCount(layer: 0, kvHead: 0) == 1 && sequence.entryCount(layer: 0, kvHead: 0) == 40)
        #expect(pool.freeBlockCount == 1)
    }
}
