import CKernels
import KVMemory
import Testing

@Suite struct KVSequenceTests {
    let layout = KVLayout(layerCount: 2, kvHeadCount: 2, headDim: 16)

    func rows(_ count: Int, offset: Float) -> [Float] {
        (0..<count * 2 * 16).map { Float($0) * 0.25 + offset }
    }

    @Test func appendFillsBlocksAndSummaries() throws {
        let pool = try KVBlockPool(layout: layout, budgetBytes: 1 << 20)
        let sequence = KVSequence(pool: pool)
        let total = pool.freeBlockCount
        try sequence.reserve(appending: 20)
        #expect(pool.freeBlockCount == total - 4 * 2)  // 4 streams × 2 blocks (16 + 4 entries)
        let keys = rows(20, offset: 1), values = rows(20, offset: -1)
        for layer in 0..<2 {
            sequence.append(layer: layer, count: 20, keys: keys, values: values, rowStride: 32)
        }
        sequence.advance(to: 20)
        #expect(sequence.entryCount(layer: 1, kvHead: 1) == 20)
        #expect(sequence.blockCount(layer: 0, kvHead: 0) == 2)
        // Key of token 17, head 1, dim 3 sits transposed in the second block at (3, 1).
        let block = sequence.blocks(layer: 0, kvHead: 1)[1]
        let stored = pool.block(block).assumingMemoryBound(to: UInt16.self)[3 * 16 + 1]
        #expect(ei_f16_to_f32(stored) == keys[17 * 32 + 16 + 3])
        // Summary of the second selection block of block 0 (tokens 8..15), head 0, dim 5.
        let summary = pool.summary(sequence.blocks(layer: 0, kvHead: 0)[0]) + 1 * 2 * 16
        #expect(ei_f16_to_f32(summary[5]) == keys[8 * 32 + 5])
        #expect(ei_f16_to_f32(summary[16 + 5]) == keys[15 * 32 + 5])
        sequence.releaseAll()
        #expect(pool.freeBlockCount == total)
    }

    @Test func reserveIsAllOrNothing() throws {
        let pool = try KVBlockPool(layout: layout, budgetBytes: (layout.bytesPerBlock + layout.summaryBytesPerBlock) * 6)
        let sequence = KVSequence(pool: pool)
        #expect(throws: KVMemoryError.outOfBlocks(needed: 8, free: 6)) { try sequence.reserve(appending: 17) }
        #expect(pool.freeBlockCount == 6)
        try sequence.reserve(appending: 16)
        #expect(pool.freeBlockCount == 2)
    }

    @Test func budgetTooSmallIsAClearError() {
        #expect(throws: KVMemoryError.self) { try KVBlockPool(layout: layout, budgetBytes: 100) }
        #expect("\(KVMemoryError.budgetTooSmall(budgetBytes: 100, minimumBytes: 200))".contains("minimum"))
    }

    @Test func f16ConversionRoundsToNearestEven() {
        #expect(ei_f32_to_f16(1.0) == 0x3C00)
        #expect(ei_f32_to_f16(-2.0) == 0xC000)
        #expect(ei_f32_to_f16(65504) == 0x7BFF)
        #expect(ei_f32_to_f16(65520) == 0x7C00)          // rounds up to infinity
        #expect(ei_f32_to_f16(1.0 + 1.0 / 2048) == 0x3C00)  // halfway: ties to even
        #expect(ei_f32_to_f16(1.0 + 3.0 / 2048) == 0x3C02)
        #expect(ei_f32_to_f16(5.960464477539063e-08) == 0x0001)  // smallest subnormal
        #expect(ei_f16_to_f32(0x0001) == 5.960464477539063e-08)
        #expect(ei_f16_to_f32(0x7C00) == .infinity)
        #expect(ei_f16_to_f32(0x7E00).isNaN)
        for bits in stride(from: UInt16(0), to: 0x7C00, by: 7) {   // every finite value round-trips
            #expect(ei_f32_to_f16(ei_f16_to_f32(bits)) == bits)
        }
    }
}
