/// The byte strings of a vocabulary's tokens as a trie, built once per vocabulary and shared by
/// every constrained request: computing a token mask walks it once with the grammar state,
/// pruning every subtree whose prefix the grammar rejects, instead of matching 151,936 tokens
/// one by one.
///
/// Nodes are stored flat (no per-node objects): node `n`'s children are
/// `childBytes/childNodes[childStart[n] ..< childStart[n] + childCount[n]]`, and the tokens whose
/// bytes end exactly at `n` are `tokens[tokenStart[n] ..< tokenStart[n + 1]]`. Node 0 is the root
/// (the empty string; no token ends there).
public final class TokenTrie: Sendable {
    public let vocabularySize: Int
    /// Nodes in the trie, the root included.
    public var nodeCount: Int { childStart.count }
    let childStart: [Int32]
    let childCount: [Int32]
    let childBytes: [UInt8]
    let childNodes: [Int32]
    /// nodeCount + 1 offsets into `tokens`.
    let tokenStart: [Int32]
    let tokens: [Int32]
    /// Token t's bytes are `byteStorage[byteOffsets[t] ..< byteOffsets[t + 1]]` (empty: never allowed).
    private let byteOffsets: [Int32]
    private let byteStorage: [UInt8]

    /// - Parameters:
    ///   - vocabularySize: the length of a logits row.
    ///   - tokenBytes: the bytes token `t` stands for, or nil (or empty) for a token a grammar never
    ///     allows (special and control tokens: end-of-generation tokens are handled apart).
    public init(vocabularySize: Int, tokenBytes: (Int32) -> [UInt8]?) {
        self.vocabularySize = vocabularySize
        var entries: [(bytes: [UInt8], token: Int32)] = []
        entries.reserveCapacity(vocabularySize)
        var offsets: [Int32] = [0]
        var storage: [UInt8] = []
        for token in 0..<Int32(truncatingIfNeeded: vocabularySize) {
            if let bytes = tokenBytes(token), !bytes.isEmpty {
                entries.append((bytes, token))
                storage.append(contentsOf: bytes)
            }
            offsets.append(Int32(storage.count))
        }
        byteOffsets = offsets
        byteStorage = storage
        entries.sort { $0.bytes.lexicographicallyPrecedes($1.bytes) || ($0.bytes == $1.bytes && $0.token < $1.token) }

        var builder = Builder(entries: entries)
        builder.build()
        childStart = builder.childStart
        childCount = builder.childCount
        childBytes = builder.childBytes
        childNodes = builder.childNodes
        var starts = builder.tokenStartPerNode
        starts.append(Int32(builder.tokens.count))
        tokenStart = starts
        tokens = builder.tokens
    }

    /// The bytes of `token`, or nil for a token no grammar allows (or outside the vocabulary).
    public func bytes(of token: Int32) -> [UInt8]? {
        guard token >= 0, Int(token) < vocabularySize else { return nil }
        let lower = Int(byteOffsets[Int(token)]), upper = Int(byteOffsets[Int(token) + 1])
        return lower < upper ? Array(byteStorage[lower..<upper]) : nil
    }

    /// Builds nodes depth first from the sorted entries: the entries sharing a prefix are
    /// contiguous, so each node covers a range of them.
    private struct Builder {
        let entries: [(bytes: [UInt8], token: Int32)]
        var childStart: [Int32] = []
        var childCount: [Int32] = []
        var childBytes: [UInt8] = []
        var childNodes: [Int32] = []
        var tokenStartPerNode: [Int32] = []
        var tokens: [Int32] = []

        init(entries: [(bytes: [UInt8], token: Int32)]) { self.entries = entries }

        mutating func build() {
            // Explicit work stack of (node, entry range, depth). The entries ending exactly at a
            // node are the first of its range (a prefix sorts first), recorded as a range and
            // copied out at the end so each node's tokens are contiguous.
            var endingLower: [Int] = [0], endingUpper: [Int] = [0]
            var work: [(node: Int32, lower: Int, upper: Int, depth: Int)] = [(newNode(), 0, entries.count, 0)]
            while let item = work.popLast() {
                var index = item.lower
                while index < item.upper && entries[index].bytes.count == item.depth { index += 1 }
                endingLower[Int(item.node)] = item.lower
                endingUpper[Int(item.node)] = index
                childStart[Int(item.node)] = Int32(childBytes.count)
                var groupCount: Int32 = 0
                while index < item.upper {
                    let byte = entries[index].bytes[item.depth]
                    var end = index + 1
                    while end < item.upper && entries[end].bytes[item.depth] == byte { end += 1 }
                    let child = newNode()
                    endingLower.append(0)
                    endingUpper.append(0)
                    childBytes.append(byte)
                    childNodes.append(child)
                    work.append((child, index, end, item.depth + 1))
                    groupCount += 1
                    index = end
                }
                childCount[Int(item.node)] = groupCount
            }
            tokenStartPerNode.reserveCapacity(childStart.count)
            for node in 0..<childStart.count {
                tokenStartPerNode.append(Int32(tokens.count))
                for entry in endingLower[node]..<endingUpper[node] { tokens.append(entries[entry].token) }
            }
        }

        private mutating func newNode() -> Int32 {
            childStart.append(0)
            childCount.append(0)
            return Int32(childStart.count - 1)
        }
    }
}
