/// Turns generated tokens into text as they arrive, never emitting a broken UTF-8 sequence.
///
/// Byte-level BPE splits many characters (emoji, CJK, accented letters) over several tokens, and
/// SentencePiece byte-fallback tokens carry one byte each. `append` returns the text completed
/// so far and holds back a trailing sequence that is valid but unfinished; it is released as
/// soon as the next token completes it. Bytes that can never form a character become U+FFFD as
/// soon as that is certain; `finish` flushes an unfinished tail as U+FFFD.
///
/// With `startOfText`, the tokens begin a text: for vocabularies that add a space prefix
/// (SentencePiece), the space encoding put in front is dropped from the first rendered piece,
/// as llama.cpp's detokenizer does. Leave it off when continuing a prompt.
public struct StreamingDetokenizer: Sendable {
    public let tokenizer: any Tokenizer
    /// Control and unknown tokens render as nothing.
    public let skipSpecial: Bool
    /// Bytes received but not yet returned (a trailing unfinished UTF-8 sequence, at most 3 bytes).
    public private(set) var pendingBytes: [UInt8] = []
    private var stripsLeadingSpace: Bool

    public init(tokenizer: any Tokenizer, skipSpecial: Bool = false, startOfText: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
        stripsLeadingSpace = startOfText && tokenizer.addsSpacePrefix
    }

    /// Adds one token and returns the text it completes (often empty mid-character).
    public mutating func append(_ token: Int32) -> String {
        if skipSpecial && tokenizer.isSpecial(token) { return "" }
        let start = pendingBytes.count
        tokenizer.appendPieceBytes(token, to: &pendingBytes)
        if stripsLeadingSpace, pendingBytes.count > start {
            if pendingBytes[start] == 0x20 { pendingBytes.remove(at: start) }
            stripsLeadingSpace = false
        }
        let ready = pendingBytes.count - Self.unfinishedSuffixLength(pendingBytes)
        guard ready > 0 else { return "" }
        let text = String(decoding: pendingBytes[..<ready], as: UTF8.self)
        pendingBytes.removeFirst(ready)
        return text
    }

    /// Returns what is still held back (an unfinished sequence becomes U+FFFD) and resets.
    public mutating func finish() -> String {
        defer { pendingBytes.removeAll() }
        return pendingBytes.isEmpty ? "" : String(decoding: pendingBytes, as: UTF8.self)
    }

    /// Length of the trailing bytes that begin a valid UTF-8 sequence not yet complete (0–3).
    public static func unfinishedSuffixLength(_ bytes: [UInt8]) -> Int {
        let count = bytes.count
        var back = 1
        while back <= min(3, count) {
            let byte = bytes[count - back]
            if byte & 0xC0 == 0x80 {  // continuation byte: look further back for the lead
                back += 1
                continue
            }
            let sequenceLength: Int
            switch byte {
            case 0xC2...0xDF: sequenceLength = 2
            case 0xE0...0xEF: sequenceLength = 3
            case 0xF0...0xF4: sequenceLength = 4
            default: return 0  // ASCII or a byte that never starts a character
            }
            guard back < sequenceLength else { return 0 }  // complete, or too many continuations
            if back >= 2 {
                // The second byte of some leads has a narrower range (no overlongs, surrogates, > U+10FFFF).
                let second = bytes[count - back + 1]
                switch byte {
                case 0xE0 where second < 0xA0, 0xED where second > 0x9F, 0xF0 where second < 0x90,
                     0xF4 where second > 0x8F:
                    return 0
                default: break
                }
            }
            return back
        }
        return 0
    }
}
