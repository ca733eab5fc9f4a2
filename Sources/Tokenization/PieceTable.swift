/// The bytes each token stands for when decoding, precomputed for the whole vocabulary (as
/// llama.cpp's `cache_token_to_piece`) in one contiguous pool.
struct PieceTable: Sendable {
    private let pool: [UInt8]
    /// Token `t`'s bytes are `pool[offsets[t] ..< offsets[t + 1]]`.
    private let offsets: [Int32]

    /// Builds the table; `appendBytes(t, &pool)` appends the bytes of token `t`, in id order.
    init(count: Int, appendBytes: (Int, inout [UInt8]) -> Void) {
        var pool: [UInt8] = []
        pool.reserveCapacity(count * 8)
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(count + 1)
        for token in 0..<count {
            appendBytes(token, &pool)
            offsets.append(Int32(pool.count))
        }
        self.pool = pool
        self.offsets = offsets
    }

    var count: Int { offsets.count - 1 }

    /// The bytes of `token`; empty for ids outside the vocabulary.
    func bytes(_ token: Int32) -> [UInt8] {
        guard token >= 0, Int(token) < count else { return [] }
        return Array(pool[Int(offsets[Int(token)])..<Int(offsets[Int(token) + 1])])
    }

    /// Appends the bytes of `token` to `output` without an intermediate array.
    func append(_ token: Int32, to output: inout [UInt8]) {
        guard token >= 0, Int(token) < count else { return }
        output.append(contentsOf: pool[Int(offsets[Int(token)])..<Int(offsets[Int(token) + 1])])
    }

    /// Byte pieces from stored token texts, as llama.cpp's `token_to_piece` with `special = true`:
    /// control, unknown and user-defined tokens render their text; normal tokens decode
    /// `decodeNormal` (given the text's UTF-8, appending to the pool); byte tokens (`<0xNN>`)
    /// their byte; unused and undefined tokens nothing.
    static func build(vocabulary: Vocabulary,
                      decodeNormal: (UnsafeBufferPointer<UInt8>, inout [UInt8]) -> Void) -> PieceTable {
        PieceTable(count: vocabulary.count) { index, pool in
            var text = vocabulary.tokens[index]
            switch vocabulary.types[index] {
            case .control, .unknown, .userDefined: text.withUTF8 { pool.append(contentsOf: $0) }
            case .normal: text.withUTF8 { decodeNormal($0, &pool) }
            case .byte:
                if let byte = byteFallbackValue(text) { pool.append(byte) } else { text.withUTF8 { pool.append(contentsOf: $0) } }
            case .unused, .undefined: break
            }
        }
    }
}

/// The byte of a byte-fallback token text `<0xNN>`, if `text` is one.
func byteFallbackValue(_ text: String) -> UInt8? {
    let utf8 = Array(text.utf8)
    guard utf8.count == 6, utf8[0] == 0x3C, utf8[1] == 0x30, utf8[2] == 0x78, utf8[5] == 0x3E else { return nil }
    return UInt8(String(decoding: utf8[3...4], as: UTF8.self), radix: 16)
}
