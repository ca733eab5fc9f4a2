/// A read-only hash map from byte strings to token ids: all keys in one contiguous byte pool and
/// an open-addressing slot array, so a lookup by pointer and length never allocates.
///
/// Built once per vocabulary (150K keys in a few milliseconds). When two entries have the same
/// bytes, the later one wins, as llama.cpp's `token_to_id` does.
struct ByteStringTable: Sendable {
    /// Key bytes of every entry, back to back.
    private let pool: [UInt8]
    /// Entry `i`'s key is `pool[keyOffsets[i] ..< keyOffsets[i + 1]]`. `entryCount + 1` values.
    private let keyOffsets: [Int32]
    private let values: [Int32]
    /// Entry index per slot, -1 when empty. Power-of-two count, at most half full.
    private let slots: [Int32]
    private let slotMask: Int
    /// Whether some key was given twice (the later entry won).
    let hasDuplicateKeys: Bool

    /// Builds the table from `(key, value)` pairs; `keys[i]` maps to `values[i]`.
    init(keys: [[UInt8]], values: [Int32]) {
        precondition(keys.count == values.count)
        var pool: [UInt8] = []
        pool.reserveCapacity(keys.reduce(0) { $0 + $1.count })
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(keys.count + 1)
        for key in keys {
            pool.append(contentsOf: key)
            offsets.append(Int32(pool.count))
        }
        self.init(pool: pool, keyOffsets: offsets, values: values)
    }

    /// Builds the table mapping the UTF-8 of `strings[i]` to `i`.
    init(strings: [String]) {
        var pool: [UInt8] = []
        pool.reserveCapacity(strings.count * 8)
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(strings.count + 1)
        for var string in strings {
            string.withUTF8 { pool.append(contentsOf: $0) }
            offsets.append(Int32(pool.count))
        }
        self.init(pool: pool, keyOffsets: offsets, values: Array(0..<Int32(strings.count)))
    }

    /// The key bytes of entry `index`, for sequential comparisons without hashing.
    @inline(__always)
    func withKey<Result>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        pool.withUnsafeBufferPointer { pool in
            body(UnsafeBufferPointer(rebasing: pool[Int(keyOffsets[index])..<Int(keyOffsets[index + 1])]))
        }
    }

    /// Builds the table from keys already laid out in a pool (entry `i` is
    /// `pool[keyOffsets[i] ..< keyOffsets[i + 1]]`).
    init(pool: [UInt8], keyOffsets: [Int32], values: [Int32]) {
        precondition(keyOffsets.count == values.count + 1)
        var slotCount = 16
        while slotCount < values.count * 2 { slotCount <<= 1 }
        var slots = [Int32](repeating: -1, count: slotCount)
        let mask = slotCount - 1
        var duplicates = false
        pool.withUnsafeBufferPointer { poolBytes in
            slots.withUnsafeMutableBufferPointer { slots in
                for entry in 0..<values.count {
                    let start = Int(keyOffsets[entry])
                    let key = UnsafeBufferPointer(rebasing: poolBytes[start..<Int(keyOffsets[entry + 1])])
                    var slot = Self.hash(key) & mask
                    while true {
                        let occupant = Int(slots[slot])
                        if occupant < 0 { slots[slot] = Int32(entry); break }
                        let occupantKey = UnsafeBufferPointer(
                            rebasing: poolBytes[Int(keyOffsets[occupant])..<Int(keyOffsets[occupant + 1])])
                        if Self.equal(occupantKey, key) {
                            slots[slot] = Int32(entry)
                            duplicates = true
                            break
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
        self.pool = pool
        self.keyOffsets = keyOffsets
        self.values = values
        self.slots = slots
        slotMask = mask
        hasDuplicateKeys = duplicates
    }

    var count: Int { values.count }

    /// The value stored for exactly these bytes, if any.
    @inline(__always)
    func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        var slot = Self.hash(key) & slotMask
        return pool.withUnsafeBufferPointer { poolBytes in
            keyOffsets.withUnsafeBufferPointer { offsets in
                slots.withUnsafeBufferPointer { slots in
                    while true {
                        let entry = Int(slots[slot])
                        if entry < 0 { return nil }
                        let start = Int(offsets[entry])
                        let length = Int(offsets[entry + 1]) - start
                        if length == key.count,
                           length == 0 || memoryEqual(poolBytes.baseAddress! + start, key.baseAddress!, length) {
                            return values[entry]
                        }
                        slot = (slot + 1) & slotMask
                    }
                }
            }
        }
    }

    func lookup(_ key: some Collection<UInt8>) -> Int32? {
        let bytes = Array(key)
        return bytes.withUnsafeBufferPointer { lookup($0) }
    }

    func lookup(_ key: String) -> Int32? {
        var key = key
        return key.withUTF8 { lookup($0) }
    }

    /// A fast 64-bit hash of short byte strings (8 bytes per step, multiply-xorshift mixing).
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return Int(truncatingIfNeeded: mix(state)) }
        let raw = UnsafeRawPointer(base)
        var offset = 0
        let count = bytes.count
        while offset + 8 <= count {
            state = mix(state ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                tail |= UInt64(base[offset]) << shift
                shift += 8
                offset += 1
            }
            state = mix(state ^ tail)
        }
        return Int(truncatingIfNeeded: state)
    }

    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        var x = value &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 31
        x = x &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 29)
    }

    @inline(__always)
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && (a.count == 0 || memoryEqual(a.baseAddress!, b.baseAddress!, a.count))
    }
}

@inline(__always)
func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var index = 0
    while index + 8 <= count {
        if UnsafeRawPointer(a).loadUnaligned(fromByteOffset: index, as: UInt64.self)
            != UnsafeRawPointer(b).loadUnaligned(fromByteOffset: index, as: UInt64.self) { return false }
        index += 8
    }
    while index < count {
        if a[index] != b[index] { return false }
        index += 1
    }
    return true
}
