/// Applies BPE merges to one word: starts from one symbol per byte and repeatedly merges the
/// adjacent pair with the lowest merge rank (leftmost first on ties), the linked-list and
/// priority-queue method of llama.cpp's `llm_tokenizer_bpe_session`, on symbol ids instead of
/// strings. Scratch buffers are reused across words; one merger serves one encoding call.
struct BytePairMerger {
    /// A candidate merge of the symbols at `left` and `right`, valid while both still hold
    /// `leftSymbol` and `rightSymbol`.
    private struct Candidate {
        /// `rank << 32 | left`: the heap pops the lowest rank, then the leftmost pair.
        var priority: UInt64
        var right: Int32
        var leftSymbol: Int32
        var rightSymbol: Int32
        var merged: Int32
    }

    private var symbols: [Int32] = []
    private var previous: [Int32] = []
    private var next: [Int32] = []
    private var heap: [Candidate] = []

    /// Merges `initial` (one symbol per byte) and appends the resulting symbols to `output`.
    mutating func merge(_ initial: UnsafeBufferPointer<Int32>, rules: MergeTable, into output: inout [Int32]) {
        let count = initial.count
        guard count > 1 else {
            output.append(contentsOf: initial)
            return
        }
        symbols.removeAll(keepingCapacity: true)
        previous.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        heap.removeAll(keepingCapacity: true)
        symbols.append(contentsOf: initial)
        for index in 0..<count {
            previous.append(Int32(index - 1))
            next.append(index + 1 < count ? Int32(index + 1) : -1)
        }
        for index in 0..<(count - 1) { addCandidate(Int32(index), Int32(index + 1), rules: rules) }

        while let candidate = popCandidate() {
            let left = Int(candidate.priority & 0xFFFF_FFFF)
            let right = Int(candidate.right)
            // Stale: one side has merged since (a symbol's id changes whenever it grows).
            guard symbols[left] == candidate.leftSymbol, symbols[right] == candidate.rightSymbol else { continue }
            symbols[left] = candidate.merged
            symbols[right] = -1
            let after = next[right]
            next[left] = after
            if after >= 0 { previous[Int(after)] = Int32(left) }
            if previous[left] >= 0 { addCandidate(previous[left], Int32(left), rules: rules) }
            if after >= 0 { addCandidate(Int32(left), after, rules: rules) }
        }
        var index: Int32 = 0
        while index >= 0 {
            output.append(symbols[Int(index)])
            index = next[Int(index)]
        }
    }

    @inline(__always)
    private mutating func addCandidate(_ left: Int32, _ right: Int32, rules: MergeTable) {
        let leftSymbol = symbols[Int(left)]
        let rightSymbol = symbols[Int(right)]
        guard let rule = rules.rule(leftSymbol, rightSymbol) else { return }
        let candidate = Candidate(priority: UInt64(UInt32(rule.rank)) << 32 | UInt64(UInt32(left)), right: right,
                                  leftSymbol: leftSymbol, rightSymbol: rightSymbol, merged: rule.merged)
        // Sift up.
        heap.append(candidate)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[parent].priority > candidate.priority else { break }
            heap[child] = heap[parent]
            child = parent
        }
        heap[child] = candidate
    }

    private mutating func popCandidate() -> Candidate? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        // Sift `last` down from the root.
        var parent = 0
        let count = heap.count
        while true {
            var child = 2 * parent + 1
            guard child < count else { break }
            if child + 1 < count, heap[child + 1].priority < heap[child].priority { child += 1 }
            guard heap[child].priority < last.priority else { break }
            heap[parent] = heap[child]
            parent = child
        }
        heap[parent] = last
        return top
    }
}

/// Token ids of the words already encoded in one call, keyed by the word's bytes (which stay in
/// the caller's input buffer for the duration of the call).
struct WordCache {
    private struct Entry {
        var hash: Int
        var keyStart: Int
        var keyLength: Int
        var idsStart: Int
        var idsCount: Int
    }

    private let text: UnsafeBufferPointer<UInt8>
    private var slots: [Int32]
    private var entries: [Entry] = []
    private(set) var ids: [Int32] = []

    init(text: UnsafeBufferPointer<UInt8>) {
        self.text = text
        slots = [Int32](repeating: -1, count: 1024)
    }

    /// The cached ids of the word at `range` of the text, or nil.
    func lookup(_ range: Range<Int>, hash: Int) -> ArraySlice<Int32>? {
        let mask = slots.count - 1
        var slot = hash & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { return nil }
            let entry = entries[index]
            if entry.hash == hash, entry.keyLength == range.count,
               memoryEqual(text.baseAddress! + entry.keyStart, text.baseAddress! + range.lowerBound, range.count) {
                return ids[entry.idsStart..<(entry.idsStart + entry.idsCount)]
            }
            slot = (slot + 1) & mask
        }
    }

    mutating func insert(_ range: Range<Int>, hash: Int, ids newIDs: ArraySlice<Int32>) {
        if (entries.count + 1) * 2 > slots.count { grow() }
        entries.append(Entry(hash: hash, keyStart: range.lowerBound, keyLength: range.count, idsStart: ids.count,
                             idsCount: newIDs.count))
        ids.append(contentsOf: newIDs)
        place(entries.count - 1)
    }

    private mutating func place(_ index: Int) {
        let mask = slots.count - 1
        var slot = entries[index].hash & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(index)
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        for index in entries.indices { place(index) }
    }
}
