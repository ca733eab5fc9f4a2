/// How often each token occurs in a sequence, plus the list of distinct tokens, so penalties
/// touch only the tokens that occurred (O(distinct) per step, not O(vocabulary)).
struct TokenOccurrences {
    /// (vocabularySize) occurrences per token id.
    private(set) var counts: [Int32]
    /// Token ids whose count is above 0, each once (first-seen order until removals).
    private(set) var distinct: [Int32] = []
    /// (vocabularySize) index of each token in `distinct`; allocated only when tokens can leave.
    private var positions: [Int32]

    init(vocabularySize: Int, allowsRemoval: Bool) {
        counts = [Int32](repeating: 0, count: vocabularySize)
        positions = allowsRemoval ? [Int32](repeating: -1, count: vocabularySize) : []
        distinct.reserveCapacity(1024)
    }

    /// Counts one more occurrence. `token` must be a valid id.
    mutating func insert(_ token: Int32) {
        let id = Int(token)
        if counts[id] == 0 {
            if !positions.isEmpty { positions[id] = Int32(distinct.count) }
            distinct.append(token)
        }
        counts[id] += 1
    }

    /// Counts one occurrence less (a token leaving a sliding window). Needs `allowsRemoval`.
    mutating func remove(_ token: Int32) {
        let id = Int(token)
        precondition(!positions.isEmpty && counts[id] > 0, "removing a token that was never inserted")
        counts[id] -= 1
        guard counts[id] == 0 else { return }
        let position = Int(positions[id])
        let last = distinct.removeLast()
        if last != token {
            distinct[position] = last
            positions[Int(last)] = Int32(position)
        }
        positions[id] = -1
    }
}
