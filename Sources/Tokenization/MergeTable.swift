/// The BPE merge rules of a vocabulary as a hash map from a pair of symbol ids to the rule's rank
/// (its position in `tokenizer.ggml.merges`, lower merges first) and the id of the merged symbol.
///
/// Open addressing over packed 64-bit keys: a lookup is one multiply and usually one probe.
struct MergeTable: Sendable {
    struct Rule: Sendable, Equatable {
        var rank: Int32
        var merged: Int32
    }

    private static let emptyKey = UInt64.max
    /// `left << 32 | right` per slot, `emptyKey` when empty.
    private let keys: [UInt64]
    private let rules: [Rule]
    private let slotMask: Int

    /// `pairs[i]` merges into `merged[i]` with rank `i`. A pair listed twice keeps its first
    /// (lowest) rank, as llama.cpp's `bpe_ranks.emplace` does.
    init(left: [Int32], right: [Int32], merged: [Int32]) {
        var slotCount = 16
        while slotCount < left.count * 2 { slotCount <<= 1 }
        var keys = [UInt64](repeating: Self.emptyKey, count: slotCount)
        var rules = [Rule](repeating: Rule(rank: -1, merged: -1), count: slotCount)
        let mask = slotCount - 1
        for index in left.indices {
            let key = Self.key(left[index], right[index])
            var slot = Self.slot(key, mask)
            while keys[slot] != Self.emptyKey && keys[slot] != key { slot = (slot + 1) & mask }
            if keys[slot] == key { continue }
            keys[slot] = key
            rules[slot] = Rule(rank: Int32(index), merged: merged[index])
        }
        self.keys = keys
        self.rules = rules
        slotMask = mask
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        var x = key &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        return Int(truncatingIfNeeded: x) & mask
    }

    /// The rule merging `left` followed by `right`, if the vocabulary has one.
    @inline(__always)
    func rule(_ left: Int32, _ right: Int32) -> Rule? {
        let key = Self.key(left, right)
        return keys.withUnsafeBufferPointer { keys in
            var slot = Self.slot(key, slotMask)
            while true {
                let stored = keys[slot]
                if stored == key { return rules[slot] }
                if stored == Self.emptyKey { return nil }
                slot = (slot + 1) & slotMask
            }
        }
    }
}
