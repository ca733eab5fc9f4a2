/// GPT-2's reversible mapping between bytes and printable Unicode characters, in which byte-level
/// BPE vocabularies store their tokens (a space is `Ġ` U+0120, a newline `Ċ` U+010A).
///
/// Printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) map to themselves; the other 68 bytes map,
/// in order, to U+0100, U+0101, … (the `bytes_to_unicode` table of GPT-2's `encoder.py`).
enum ByteLevelEncoding {
    /// The character standing for each byte.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(byte) {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// UTF-8 of the character standing for each byte (1 or 2 bytes).
    static let utf8ForByte: [[UInt8]] = scalarForByte.map { Array(String(Unicode.Scalar($0)!).utf8) }

    private static func isPrintable(_ byte: Int) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// The byte a character stands for, or nil if it is not one of the 256.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        if value < 256 { return isPrintable(Int(value)) ? UInt8(value) : nil }
        guard value < 256 + 68 else { return nil }
        return byteForExtendedScalar[Int(value - 256)]
    }

    private static let byteForExtendedScalar: [UInt8] = (0..<256).filter { !isPrintable($0) }.map { UInt8($0) }

    /// Decodes a token's stored text to raw bytes; nil if a character is outside the mapping.
    static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// Decodes a token's stored text (as UTF-8) to raw bytes appended to `output`; when a
    /// character is outside the mapping, appends the text unchanged instead.
    static func decode(utf8 text: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        let start = output.count
        var index = 0
        while index < text.count {
            let lead = text[index]
            var value: UInt32
            if lead < 0x80 {
                value = UInt32(lead)
                index += 1
            } else if lead & 0xE0 == 0xC0, index + 1 < text.count {
                value = UInt32(lead & 0x1F) << 6 | UInt32(text[index + 1] & 0x3F)
                index += 2
            } else {
                value = .max  // three- and four-byte characters are never byte characters
                index += 1
            }
            guard let scalar = Unicode.Scalar(value), let byte = byte(for: scalar) else {
                output.removeSubrange(start...)
                output.append(contentsOf: text)
                return
            }
            output.append(byte)
        }
    }

    /// Encodes raw bytes to the stored text form, appending its UTF-8 to `output`.
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        for byte in bytes { output.append(contentsOf: utf8ForByte[Int(byte)]) }
    }
}
