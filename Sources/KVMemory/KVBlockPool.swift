import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// Index of a block in the pool.
public typealias KVBlockID = Int32

/// Every KV byte of the server: a fixed number of blocks (see `KVLayout`) carved from one
/// anonymous mapping (pages are committed only when first written), with reference counts so
/// sessions can share prefix blocks, and key min/max summaries per 8-token selection block.
///
/// Not thread-safe: the engine thread owns it.
public final class KVBlockPool: @unchecked Sendable {
    public let layout: KVLayout
    public let blockCount: Int
    /// (blockCount, layout.bytesPerBlock)
    private let storage: UnsafeMutableRawPointer
    /// (blockCount, selectionBlocksPerBlock, 2, headDim) f16: min row then max row.
    private let summaries: UnsafeMutablePointer<UInt16>
    private var referenceCounts: [Int32]
    private var freeBlocks: [KVBlockID]
    private let mappedBytes: Int

    /// - Parameter budgetBytes: total bytes for blocks and their summaries.
    public init(layout: KVLayout, budgetBytes: Int) throws(KVMemoryError) {
        self.layout = layout
        let perBlock = layout.bytesPerBlock + layout.summaryBytesPerBlock
        let count = budgetBytes / perBlock
        guard count >= layout.streamCount else {
            throw .budgetTooSmall(budgetBytes: budgetBytes, minimumBytes: layout.streamCount * perBlock)
        }
        guard count <= Int(Int32.max) else {
            throw .budgetTooSmall(budgetBytes: budgetBytes, minimumBytes: 0)
        }
        blockCount = count
        mappedBytes = count * perBlock
        guard let base = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              base != MAP_FAILED else {
            throw .budgetTooSmall(budgetBytes: budgetBytes, minimumBytes: 0)
        }
        storage = base
        summaries = (base + count * layout.bytesPerBlock).bindMemory(
            to: UInt16.self, capacity: count * layout.summaryBytesPerBlock / 2)
        referenceCounts = Array(repeating: 0, count: count)
        // Hand out low ids first so a lightly used pool touches few pages.
        freeBlocks = (0..<Int32(count)).reversed()
    }

    deinit {
        munmap(storage, mappedBytes)
    }

    public var freeBlockCount: Int { freeBlocks.count }
    public var usedBlockCount: Int { blockCount - freeBlocks.count }
    public var totalBytes: Int { mappedBytes }

    /// A block with reference count 1, or nil when none is free.
    public func allocate() -> KVBlockID? {
        guard let id = freeBlocks.popLast() else { return nil }
        referenceCounts[Int(id)] = 1
        return id
    }

    public func retain(_ id: KVBlockID) {
        precondition(referenceCounts[Int(id)] > 0, "retain of a free KV block")
        referenceCounts[Int(id)] += 1
    }

    /// Drops one reference; the block returns to the free list at zero.
    public func release(_ id: KVBlockID) {
        precondition(referenceCounts[Int(id)] > 0, "release of a free KV block")
        referenceCounts[Int(id)] -= 1
        if referenceCounts[Int(id)] == 0 { freeBlocks.append(id) }
    }

    public func referenceCount(_ id: KVBlockID) -> Int { Int(referenceCounts[Int(id)]) }

    /// Start of the block: keys (headDim, blockTokens) then values (blockTokens, headDim).
    @inline(__always)
    public func block(_ id: KVBlockID) -> UnsafeMutableRawPointer {
        storage + Int(id) * layout.bytesPerBlock
    }

    /// Key summaries of the block: (selectionBlocksPerBlock, 2, headDim) f16.
    @inline(__always)
    public func summary(_ id: KVBlockID) -> UnsafeMutablePointer<UInt16> {
        summaries + Int(id) * (layout.summaryBytesPerBlock / 2)
    }

    /// Copies a block's entries and summaries into another block (copy-on-write of shared blocks).
    public func copy(_ source: KVBlockID, to destination: KVBlockID) {
        block(destination).copyMemory(from: block(source), byteCount: layout.bytesPerBlock)
        UnsafeMutableRawPointer(summary(destination)).copyMemory(
            from: summary(source), byteCount: layout.summaryBytesPerBlock)
    }
}
