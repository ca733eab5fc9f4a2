/// Strict UTF-8 decoding one byte at a time (RFC 3629), shared by the recogniser and the
/// automaton: a pending sequence is the bits read so far and the continuation bytes missing.
enum UTF8Sequence {
    /// A lead byte's payload bits and how many continuation bytes follow; nil for bytes that
    /// cannot start a sequence (continuation bytes, C0, C1, F5…FF). ASCII is not a lead.
    @inline(__always)
    static func lead(_ byte: UInt8) -> (value: UInt32, remaining: UInt8)? {
        switch byte {
        case 0xC2...0xDF: return (UInt32(byte & 0x1F), 1)
        case 0xE0...0xEF: return (UInt32(byte & 0x0F), 2)
        case 0xF0...0xF4: return (UInt32(byte & 0x07), 3)
        default: return nil
        }
    }

    /// Whether `byte` may continue a pending sequence: a continuation byte, restricted after
    /// E0, ED, F0 and F4 (no overlong forms, no surrogates, nothing above U+10FFFF). At that
    /// point a 3-byte sequence holds only its lead's 4 bits (value < 16), a 4-byte one its
    /// lead's 3 bits.
    @inline(__always)
    static func continues(pendingValue: UInt32, pendingRemaining: UInt8, with byte: UInt8) -> Bool {
        guard byte & 0xC0 == 0x80 else { return false }
        if pendingRemaining == 3 {
            return !(pendingValue == 0 && byte < 0x90 || pendingValue == 4 && byte > 0x8F)
        }
        if pendingRemaining == 2 && pendingValue < 16 {
            return !(pendingValue == 0 && byte < 0xA0 || pendingValue == 13 && byte > 0x9F)
        }
        return true
    }
}
