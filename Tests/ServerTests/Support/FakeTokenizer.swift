import Tokenization

/// A byte-level tokenizer for tests: ids 0–4 are special (`<unk>`, `<s>`, `</s>`,
/// `<|im_start|>`, `<|im_end|>`), id `5 + b` is byte `b`. Multi-byte characters take several
/// tokens, so UTF-8 boundaries are exercised.
struct FakeTokenizer: Tokenizer {
    static let specials = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    static let byteOffset: Int32 = 5

    var addBOS = false
    var vocabularySize: Int { 5 + 256 }

    var specialTokens: SpecialTokens {
        SpecialTokens(bos: 1, eos: 2, eot: 4, unknown: 0, endOfGeneration: [2, 4], addBOS: addBOS)
    }

    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        var tokens: [Int32] = addSpecial && addBOS ? [1] : []
        var rest = Substring(text)
        outer: while !rest.isEmpty {
            if parseSpecial {
                for (id, special) in Self.specials.enumerated() where rest.hasPrefix(special) {
                    tokens.append(Int32(id))
                    rest = rest.dropFirst(special.count)
                    continue outer
                }
            }
            let character = rest.first!
            tokens += character.utf8.map { Int32($0) + Self.byteOffset }
            rest = rest.dropFirst()
        }
        return tokens
    }

    func pieceBytes(_ token: Int32) -> [UInt8] {
        if token < Self.byteOffset { return Array(Self.specials[Int(token)].utf8) }
        return [UInt8(token - Self.byteOffset)]
    }

    func tokenText(_ token: Int32) -> String {
        if token < Self.byteOffset { return Self.specials[Int(token)] }
        let byte = UInt8(token - Self.byteOffset)
        return (32..<127).contains(byte) ? String(UnicodeScalar(byte)) : "<0x\(String(byte, radix: 16, uppercase: true))>"
    }

    func tokenID(forText text: String) -> Int32? {
        if let index = Self.specials.firstIndex(of: text) { return Int32(index) }
        if text.utf8.count == 1 { return Int32(text.utf8.first!) + Self.byteOffset }
        return nil
    }

    func isSpecial(_ token: Int32) -> Bool { token < Self.byteOffset }
}
