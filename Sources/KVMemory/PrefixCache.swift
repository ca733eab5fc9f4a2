/// Reusable KV of prompt prefixes: a trie of full 16-token blocks.
///
/// A node stands for the first `depth × 16` tokens of some sequence computed under one
/// `namespace` (everything that changed how the KV was computed: KV type, attention policy and
/// its knobs, compression state, a tenant's cache salt). It holds one reference on the block of
/// every (layer, KV head) stream for its 16 tokens. Children are keyed by their exact 16 tokens,
/// so a match is an exact prefix match, never a hash collision.
///
/// Entries are evicted leaf first, least recently used first, when the pool needs blocks. Not
/// thread-safe: the engine thread owns it.
public final class PrefixCache: @unchecked Sendable {
    public let pool: KVBlockPool

    private struct ChildKey: Hashable {
        let parent: Int
        let tokens: [Int32]
    }

    private struct Node {
        let parent: Int
        let tokens: [Int32]
        /// (streamCount) block ids, one per (layer, KV head), each retained by the cache.
        let blocks: [KVBlockID]
        var childCount = 0
        var lastUse: UInt64
    }

    private var nodes: [Int: Node] = [:]
    private var children: [ChildKey: Int] = [:]
    /// Root node id per namespace (roots hold no blocks).
    private var roots: [String: Int] = [:]
    private var nextID = 1
    private var clock: UInt64 = 0

    public init(pool: KVBlockPool) {
        self.pool = pool
    }

    /// Cached blocks (logical 16-token blocks) currently held.
    public var entryCount: Int { nodes.count - roots.count }

    private func root(_ namespace: String) -> Int {
        if let id = roots[namespace] { return id }
        let id = nextID
        nextID += 1
        nodes[id] = Node(parent: 0, tokens: [], blocks: [], lastUse: 0)
        roots[namespace] = id
        return id
    }

    /// Where a sequence's cached prefix ends; extend the cache from here as the sequence grows.
    public struct Cursor: Sendable, Equatable {
        fileprivate let node: Int
        /// Tokens of the sequence the cache holds up to this cursor.
        public let tokenCount: Int
    }

    /// The longest cached prefix of `tokens`, at most `maximumTokens` long: its blocks as one
    /// (streamCount) array per 16-token block, and a cursor at its end.
    public func lookup(_ tokens: [Int32], namespace: String, maximumTokens: Int) -> (blocks: [[KVBlockID]], cursor: Cursor) {
        let blockTokens = KVLayout.blockTokens
        clock += 1
        var parent = root(namespace)
        var matched: [[KVBlockID]] = []
        var start = 0
        while start + blockTokens <= min(tokens.count, maximumTokens) {
            let key = ChildKey(parent: parent, tokens: Array(tokens[start..<start + blockTokens]))
            guard let child = children[key] else { break }
            nodes[child]!.lastUse = clock
            matched.append(nodes[child]!.blocks)
            parent = child
            start += blockTokens
        }
        return (matched, Cursor(node: parent, tokenCount: start))
    }

    /// Adds the full blocks of `kv` (whose positions hold `tokens`) after `cursor`. Blocks already
    /// cached (another session computed the same prefix) are shared, new ones retained. Returns
    /// the cursor at the new end; a cursor whose entry was evicted starts again from the root.
    public func extend(from cursor: Cursor?, namespace: String, sequence tokens: [Int32], cache kv: KVSequence) -> Cursor {
        let blockTokens = KVLayout.blockTokens
        clock += 1
        var parent = root(namespace)
        var start = 0
        if let cursor, nodes[cursor.node] != nil, cursor.tokenCount > 0 {
            parent = cursor.node
            start = cursor.tokenCount
        }
        let firstBlock = start / blockTokens
        let completeBlocks = min(kv.positionCount, tokens.count) / blockTokens
        guard firstBlock < completeBlocks else { return Cursor(node: parent, tokenCount: start) }
        for index in firstBlock..<completeBlocks {
            guard let streamBlocks = kv.streamBlocks(atBlock: index) else { break }
            let tokenStart = index * blockTokens
            let key = ChildKey(parent: parent, tokens: Array(tokens[tokenStart..<tokenStart + blockTokens]))
            if let existing = children[key] {
                nodes[existing]!.lastUse = clock
                parent = existing
            } else {
                for id in streamBlocks { pool.retain(id) }
                let id = nextID
                nextID += 1
                nodes[id] = Node(parent: parent, tokens: key.tokens, blocks: streamBlocks, lastUse: clock)
                children[key] = id
                nodes[parent]!.childCount += 1
                parent = id
            }
            start = tokenStart + blockTokens
        }
        return Cursor(node: parent, tokenCount: start)
    }

    /// Drops least recently used leaf entries that only the cache holds until at least `blocks`
    /// pool blocks are free or nothing more can be freed; returns the number of blocks freed.
    /// Entries a running session shares stay (dropping them would free nothing).
    @discardableResult
    public func evict(untilFree blocks: Int) -> Int {
        let before = pool.freeBlockCount
        while pool.freeBlockCount < blocks {
            var victim: Int?
            var oldest = UInt64.max
            for (id, node) in nodes where node.childCount == 0 && !node.blocks.isEmpty && node.lastUse < oldest
                && node.blocks.allSatisfy({ pool.referenceCount($0) == 1 }) {
                victim = id
                oldest = node.lastUse
            }
            guard let id = victim else { break }
            remove(id)
        }
        return pool.freeBlockCount - before
    }

    private func remove(_ id: Int) {
        guard let node = nodes.removeValue(forKey: id) else { return }
        children[ChildKey(parent: node.parent, tokens: node.tokens)] = nil
        nodes[node.parent]?.childCount -= 1
        for block in node.blocks { pool.release(block) }
    }

    /// Releases every cached block (tests, shutdown).
    public func removeAll() {
        for (id, node) in nodes where !node.blocks.isEmpty {
            for block in node.blocks { pool.release(block) }
            nodes[id] = nil
        }
        children.removeAll()
        for (_, id) in roots { nodes[id]!.childCount = 0 }
    }
}
