/// A SHA-256 digest (32 bytes).
public struct SHA256Digest: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Lower-case hex, as `sha256sum` and package indexes print it.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { hex }
}

/// Streaming SHA-256 (FIPS 180-4). Feed bytes with `update` in pieces of any size, then `finalize`.
///
/// Pure Swift, scalar: the round loop keeps the eight working variables in registers and
/// is unrolled by eight so no variable shuffling is needed between rounds; Σ0/Σ1 use the
/// nested-rotation form and Maj reuses a ^ b from the previous round (about 48 instructions
/// per byte). A faster hash would need SHA-NI instructions, which Swift cannot emit.
public struct SHA256: Sendable {
    private var state = State()
    /// Bytes of an incomplete block, waiting for more input.
    private var pending = [UInt8](repeating: 0, count: 64)
    private var pendingCount = 0
    /// Total message length so far, in bytes.
    private var messageByteCount: UInt64 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var source = bytes.baseAddress, !bytes.isEmpty else { return }
        var remaining = bytes.count
        messageByteCount &+= UInt64(remaining)
        if pendingCount > 0 {
            let taken = min(64 - pendingCount, remaining)
            let offset = pendingCount
            pending.withUnsafeMutableBytes { ($0.baseAddress! + offset).copyMemory(from: source, byteCount: taken) }
            pendingCount += taken
            source += taken
            remaining -= taken
            guard pendingCount == 64 else { return }
            pending.withUnsafeBytes { SHA256.compress(&state, $0.baseAddress!, blockCount: 1) }
            pendingCount = 0
        }
        let blockCount = remaining / 64
        if blockCount > 0 {
            SHA256.compress(&state, source, blockCount: blockCount)
            source += blockCount * 64
            remaining -= blockCount * 64
        }
        if remaining > 0 {
            pending.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: source, byteCount: remaining) }
            pendingCount = remaining
        }
    }

    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if let done = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) { return done }
        Array(bytes).withUnsafeBytes { update($0) }
    }

    /// Pads the message and returns its digest. The hasher must not be used afterwards.
    public mutating func finalize() -> SHA256Digest {
        let bitCount = messageByteCount &* 8
        var padding: [UInt8] = [0x80]
        let zeroCount = (64 + 56 - (pendingCount + 1) % 64) % 64
        padding += [UInt8](repeating: 0, count: zeroCount)
        for shift in stride(from: 56, through: 0, by: -8) { padding.append(UInt8(truncatingIfNeeded: bitCount >> UInt64(shift))) }
        let savedCount = messageByteCount
        padding.withUnsafeBytes { update($0) }
        messageByteCount = savedCount
        precondition(pendingCount == 0, "SHA-256 padding must end on a block boundary")
        var digest = [UInt8]()
        digest.reserveCapacity(32)
        for word in [state.a, state.b, state.c, state.d, state.e, state.f, state.g, state.h] {
            for shift in stride(from: 24, through: 0, by: -8) { digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
        }
        return SHA256Digest(bytes: digest)
    }

    public static func hash(_ bytes: UnsafeRawBufferPointer) -> SHA256Digest {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> SHA256Digest where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    // MARK: - Compression function

    private struct State: Sendable {
        var a: UInt32 = 0x6a09_e667, b: UInt32 = 0xbb67_ae85, c: UInt32 = 0x3c6e_f372, d: UInt32 = 0xa54f_f53a
        var e: UInt32 = 0x510e_527f, f: UInt32 = 0x9b05_688c, g: UInt32 = 0x1f83_d9ab, h: UInt32 = 0x5be0_cd19
    }

    /// First 32 bits of the fractional parts of the cube roots of the first 64 primes.
    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    @inline(__always)
    private static func rotateRight(_ x: UInt32, _ count: UInt32) -> UInt32 {
        (x &>> count) | (x &<< (32 &- count))
    }

    /// One round; the caller rotates the roles of the eight variables instead of moving values.
    /// `aXorB` carries a ^ b into the next round, where it is b ^ c (Maj(a,b,c) = b ^ ((a ^ b) & (b ^ c))).
    @inline(__always)
    private static func round(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
                              _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32,
                              _ bXorC: inout UInt32, _ constantPlusWord: UInt32) {
        // Σ1(e) = ROTR6(e) ^ ROTR11(e) ^ ROTR25(e), written to need one register copy, not three.
        let sigma1 = rotateRight(e ^ rotateRight(e ^ rotateRight(e, 14), 5), 6)
        let choice = g ^ (e & (f ^ g))
        let t1 = h &+ sigma1 &+ choice &+ constantPlusWord
        // Σ0(a) = ROTR2(a) ^ ROTR13(a) ^ ROTR22(a), likewise.
        let sigma0 = rotateRight(a ^ rotateRight(a ^ rotateRight(a, 9), 11), 2)
        let aXorB = a ^ b
        let majority = b ^ (aXorB & bXorC)
        bXorC = aXorB
        d &+= t1
        h = t1 &+ sigma0 &+ majority
    }

    /// Processes `blockCount` consecutive 64-byte blocks starting at `blocks`.
    private static func compress(_ state: inout State, _ blocks: UnsafeRawPointer, blockCount: Int) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in  // (64) message words
            roundConstants.withUnsafeBufferPointer { constants in
                for blockIndex in 0..<blockCount {
                    let block = blocks + blockIndex &* 64
                    for index in 0..<16 {
                        schedule[index] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
                    }
                    for index in 16..<64 {
                        let w15 = schedule[index &- 15], w2 = schedule[index &- 2]
                        let s0 = rotateRight(w15, 7) ^ rotateRight(w15, 18) ^ (w15 &>> 3)
                        let s1 = rotateRight(w2, 17) ^ rotateRight(w2, 19) ^ (w2 &>> 10)
                        schedule[index] = schedule[index &- 16] &+ s0 &+ schedule[index &- 7] &+ s1
                    }
                    var a = state.a, b = state.b, c = state.c, d = state.d
                    var e = state.e, f = state.f, g = state.g, h = state.h
                    var index = 0
                    var bXorC = b ^ c
                    while index < 64 {
                        round(a, b, c, &d, e, f, g, &h, &bXorC, constants[index] &+ schedule[index])
                        round(h, a, b, &c, d, e, f, &g, &bXorC, constants[index &+ 1] &+ schedule[index &+ 1])
                        round(g, h, a, &b, c, d, e, &f, &bXorC, constants[index &+ 2] &+ schedule[index &+ 2])
                        round(f, g, h, &a, b, c, d, &e, &bXorC, constants[index &+ 3] &+ schedule[index &+ 3])
                        round(e, f, g, &h, a, b, c, &d, &bXorC, constants[index &+ 4] &+ schedule[index &+ 4])
                        round(d, e, f, &g, h, a, b, &c, &bXorC, constants[index &+ 5] &+ schedule[index &+ 5])
                        round(c, d, e, &f, g, h, a, &b, &bXorC, constants[index &+ 6] &+ schedule[index &+ 6])
                        round(b, c, d, &e, f, g, h, &a, &bXorC, constants[index &+ 7] &+ schedule[index &+ 7])
                        index &+= 8
                    }
                    state.a &+= a; state.b &+= b; state.c &+= c; state.d &+= d
                    state.e &+= e; state.f &+= f; state.g &+= g; state.h &+= h
                }
            }
        }
    }
}
