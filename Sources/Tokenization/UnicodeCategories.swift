/// The character classes pre-tokenizer regexes use (`\p{L}`, `\p{N}`, `\p{P}`, `\p{M}`, `\s`), as bit flags
/// per Unicode scalar.
///
/// `\s` is the Unicode `White_Space` property (the set llama.cpp's `unicode_set_whitespace`
/// holds, and what Oniguruma in HF tokenizers matches). Letters, numbers and punctuation are the
/// general categories L*, N*, P* and M*. The Basic Multilingual Plane is tabulated once (64 KiB, built
/// on first use from the standard library's Unicode data); other planes are classified on demand.
struct UnicodeCategories {
    typealias Flags = UInt8

    static let letter: Flags = 1
    static let number: Flags = 2
    static let whitespace: Flags = 4
    static let punctuation: Flags = 8
    static let mark: Flags = 16

    /// Flags of every scalar below 0x10000 (surrogates have none).
    private static let basicPlane: [Flags] = {
        var table = [Flags](repeating: 0, count: 0x10000)
        for value in 0..<0x10000 {
            guard let scalar = Unicode.Scalar(UInt32(value)) else { continue }
            table[value] = classify(scalar)
        }
        return table
    }()

    /// Builds the plane table now instead of on the first non-ASCII character.
    static func prepare() { _ = basicPlane.count }

    @inline(__always)
    static func flags(_ value: UInt32) -> Flags {
        if value < 0x10000 { return basicPlane.withUnsafeBufferPointer { $0[Int(value)] } }
        guard let scalar = Unicode.Scalar(value) else { return 0 }
        return classify(scalar)
    }

    static func classify(_ scalar: Unicode.Scalar) -> Flags {
        let properties = scalar.properties
        var flags: Flags = properties.isWhitespace ? whitespace : 0
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            flags |= letter
        case .decimalNumber, .letterNumber, .otherNumber:
            flags |= number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            flags |= punctuation
        case .nonspacingMark, .spacingMark, .enclosingMark:
            flags |= mark
        default:
            break
        }
        return flags
    }
}

/// A text fragment decoded to scalars, with the category flags and byte offset of each, so the
/// pre-tokenizer scanners can look ahead freely. Buffers are reused between fragments.
struct ScalarBuffer {
    /// Unicode scalar values, one per character position.
    var scalars: [UInt32] = []
    /// `UnicodeCategories` flags, parallel to `scalars`.
    var flags: [UnicodeCategories.Flags] = []
    /// Byte offset (in the fragment's UTF-8) where each scalar starts, plus one final entry: the
    /// fragment's byte count. `count + 1` entries.
    var byteOffsets: [Int] = []

    var count: Int { scalars.count }

    /// Decodes `bytes` (valid UTF-8, as every Swift `String` is).
    mutating func load(_ bytes: UnsafeBufferPointer<UInt8>) {
        scalars.removeAll(keepingCapacity: true)
        flags.removeAll(keepingCapacity: true)
        byteOffsets.removeAll(keepingCapacity: true)
        scalars.reserveCapacity(bytes.count)
        flags.reserveCapacity(bytes.count)
        byteOffsets.reserveCapacity(bytes.count + 1)
        var index = 0
        let count = bytes.count
        let asciiFlags = ASCIIFlags.table
        while index < count {
            let lead = bytes[index]
            byteOffsets.append(index)
            if lead < 0x80 {
                scalars.append(UInt32(lead))
                flags.append(asciiFlags[Int(lead)])
                index += 1
                continue
            }
            var value: UInt32
            var length: Int
            if lead >= 0xF0 { value = UInt32(lead & 0x07); length = 4 }
            else if lead >= 0xE0 { value = UInt32(lead & 0x0F); length = 3 }
            else { value = UInt32(lead & 0x1F); length = 2 }
            length = min(length, count - index)
            for offset in 1..<max(length, 1) { value = value << 6 | UInt32(bytes[index + offset] & 0x3F) }
            scalars.append(value)
            flags.append(UnicodeCategories.flags(value))
            index += max(length, 1)
        }
        byteOffsets.append(count)
    }
}

/// Flags of the ASCII range, precomputed for the common case.
enum ASCIIFlags {
    static let table: [UnicodeCategories.Flags] = (0..<128).map { UnicodeCategories.classify(Unicode.Scalar(UInt8($0))) }
}
