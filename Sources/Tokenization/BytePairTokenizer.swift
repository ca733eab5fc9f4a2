/// Byte-level BPE (`tokenizer.ggml.model = gpt2`): GPT-2, Llama 3, Qwen2, SmolLM…
///
/// Encoding: special tokens are cut out first (`SpecialTokenSplitter`); each remaining fragment
/// is split into words by the vocabulary's pre-tokenizer; each word starts as one symbol per
/// byte (the token of GPT-2's character for that byte) and is merged by rank
/// (`BytePairMerger`). Words repeated within one call are encoded once.
///
/// Merge rules are compiled to id pairs at load. A merge whose parts or result are not
/// themselves tokens (possible in hand-made vocabularies) gets a private symbol id past the end
/// of the vocabulary; such a symbol left at the end of merging is emitted byte by byte.
public final class BytePairTokenizer: Tokenizer {
    public let vocabulary: Vocabulary
    public let specialTokens: SpecialTokens
    public var vocabularySize: Int { vocabulary.count }

    private let preTokenizer: PreTokenizer
    private let ignoresMerges: Bool
    private let pieces: PieceTable
    /// Stored token text (GPT-2 character form) → id.
    private let textTable: ByteStringTable
    private let rules: MergeTable
    /// The starting symbol of each byte value.
    private let byteSymbols: [Int32]
    /// Raw bytes of the private symbols, id `vocabulary.count + i` at index `i`.
    private let privateSymbolBytes: [[UInt8]]
    private let splitter: SpecialTokenSplitter

    public init(vocabulary: Vocabulary) throws(TokenizerError) {
        guard vocabulary.model == .bytePairEncoding, let selection = vocabulary.preTokenizer else {
            throw .unsupportedModel(path: vocabulary.path, model: vocabulary.model.rawValue,
                                    supported: [Vocabulary.Model.bytePairEncoding.summary])
        }
        self.vocabulary = vocabulary
        specialTokens = vocabulary.specialTokens
        preTokenizer = selection.preTokenizer
        ignoresMerges = selection.ignoresMerges

        let textTable = ByteStringTable(strings: vocabulary.tokens)
        self.textTable = textTable
        var symbols = SymbolRegistry(textTable: textTable, tokenCount: vocabulary.count)
        byteSymbols = ByteLevelEncoding.utf8ForByte.map { utf8 in utf8.withUnsafeBufferPointer { symbols.symbol($0) } }
        rules = Self.compileMerges(vocabulary.merges, symbols: &symbols)
        privateSymbolBytes = symbols.privateTexts.map { ByteLevelEncoding.decode(String(decoding: $0, as: UTF8.self)) ?? $0 }
        pieces = PieceTable.build(vocabulary: vocabulary) { text, pool in
            ByteLevelEncoding.decode(utf8: text, into: &pool)
        }
        splitter = SpecialTokenSplitter(tokens: vocabulary.tokens, types: vocabulary.types)
        UnicodeCategories.prepare()
    }

    /// Symbol ids for texts: the token's id when the text is a token, else a private id past
    /// the end of the vocabulary (one per distinct text).
    private struct SymbolRegistry {
        let textTable: ByteStringTable
        let tokenCount: Int
        var privateIDs: [[UInt8]: Int32] = [:]
        var privateTexts: [[UInt8]] = []

        mutating func symbol(_ text: UnsafeBufferPointer<UInt8>) -> Int32 {
            if let id = textTable.lookup(text) { return id }
            let key = Array(text)
            if let id = privateIDs[key] { return id }
            let id = Int32(tokenCount + privateTexts.count)
            privateIDs[key] = id
            privateTexts.append(key)
            return id
        }
    }

    /// Compiles `"left right"` merge strings (rank = position) to a table of symbol-id pairs.
    private static func compileMerges(_ merges: [String], symbols: inout SymbolRegistry) -> MergeTable {
        var left: [Int32] = []
        var right: [Int32] = []
        var merged: [Int32] = []
        left.reserveCapacity(merges.count)
        right.reserveCapacity(merges.count)
        merged.reserveCapacity(merges.count)
        var joined: [UInt8] = []
        let textTable = symbols.textTable
        // Vocabularies usually list merge results in rank order right after the 256 byte tokens:
        // try the token after the previous result before hashing (exact unless texts repeat).
        var guess = 256
        for var rule in merges {
            rule.withUTF8 { bytes in
                // The separator is the first space after the first byte (as llama.cpp splits them).
                guard bytes.count >= 3, let space = bytes[1...].firstIndex(of: 0x20), space + 1 < bytes.count else {
                    return
                }
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: bytes[..<space])
                joined.append(contentsOf: bytes[(space + 1)...])
                left.append(symbols.symbol(UnsafeBufferPointer(rebasing: bytes[..<space])))
                right.append(symbols.symbol(UnsafeBufferPointer(rebasing: bytes[(space + 1)...])))
                let result = joined.withUnsafeBufferPointer { joined in
                    if !textTable.hasDuplicateKeys, guess < symbols.tokenCount,
                       textTable.withKey(guess, { ByteStringTable.equal($0, joined) }) {
                        return Int32(guess)
                    }
                    return symbols.symbol(joined)
                }
                merged.append(result)
                guess = Int(result) + 1
            }
        }
        return MergeTable(left: left, right: right, merged: merged)
    }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        var output: [Int32] = []
        output.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecial, specialTokens.addBOS, let bos = specialTokens.bos { output.append(bos) }
        var text = text
        text.withUTF8 { bytes in
            var session = Session(text: bytes)
            for fragment in splitter.split(bytes, parseSpecial: parseSpecial) {
                switch fragment {
                case .token(let token): output.append(token)
                case .text(let range): encodeFragment(range, session: &session, into: &output)
                }
            }
        }
        if addSpecial, specialTokens.addEOS, let eos = specialTokens.eos { output.append(eos) }
        return output
    }

    /// Scratch state of one `encode` call.
    private struct Session {
        let text: UnsafeBufferPointer<UInt8>
        var scalars = ScalarBuffer()
        var wordEnds: [Int] = []
        var splitScratch: [Int] = []
        var initial: [Int32] = []
        var merged: [Int32] = []
        var encodedWord: [UInt8] = []
        var merger = BytePairMerger()
        var cache: WordCache

        init(text: UnsafeBufferPointer<UInt8>) {
            self.text = text
            cache = WordCache(text: text)
        }
    }

    private func encodeFragment(_ range: Range<Int>, session: inout Session, into output: inout [Int32]) {
        let fragment = UnsafeBufferPointer(rebasing: session.text[range])
        session.scalars.load(fragment)
        session.wordEnds.removeAll(keepingCapacity: true)
        preTokenizer.split(session.scalars, into: &session.wordEnds, scratch: &session.splitScratch)
        var wordStart = 0
        for wordEnd in session.wordEnds {
            let bytes = (range.lowerBound + session.scalars.byteOffsets[wordStart])
                ..< (range.lowerBound + session.scalars.byteOffsets[wordEnd])
            wordStart = wordEnd
            encodeWord(bytes, session: &session, into: &output)
        }
    }

    private func encodeWord(_ range: Range<Int>, session: inout Session, into output: inout [Int32]) {
        let word = UnsafeBufferPointer(rebasing: session.text[range])
        if word.count == 1 {
            appendSymbol(byteSymbols[Int(word[0])], into: &output)
            return
        }
        let hash = ByteStringTable.hash(word)
        if let cached = session.cache.lookup(range, hash: hash) {
            output.append(contentsOf: cached)
            return
        }
        session.merged.removeAll(keepingCapacity: true)
        var whole: Int32?
        if ignoresMerges {
            session.encodedWord.removeAll(keepingCapacity: true)
            ByteLevelEncoding.encode(word, into: &session.encodedWord)
            whole = session.encodedWord.withUnsafeBufferPointer { textTable.lookup($0) }
        }
        if let whole {
            session.merged.append(whole)
        } else {
            session.initial.removeAll(keepingCapacity: true)
            for byte in word { session.initial.append(byteSymbols[Int(byte)]) }
            session.initial.withUnsafeBufferPointer { initial in
                session.merger.merge(initial, rules: rules, into: &session.merged)
            }
        }
        let start = output.count
        for symbol in session.merged { appendSymbol(symbol, into: &output) }
        session.cache.insert(range, hash: hash, ids: output[start...])
    }

    @inline(__always)
    private func appendSymbol(_ symbol: Int32, into output: inout [Int32]) {
        if Int(symbol) < vocabulary.count {
            output.append(symbol)
            return
        }
        // A private symbol: its bytes as byte tokens, skipping bytes the vocabulary lacks.
        for byte in privateSymbolBytes[Int(symbol) - vocabulary.count] {
            let token = byteSymbols[Int(byte)]
            if Int(token) < vocabulary.count { output.append(token) }
        }
    }

    public func pieceBytes(_ token: Int32) -> [UInt8] { pieces.bytes(token) }

    public func appendPieceBytes(_ token: Int32, to output: inout [UInt8]) { pieces.append(token, to: &output) }

    public func tokenText(_ token: Int32) -> String {
        guard token >= 0, Int(token) < vocabulary.count else { return "" }
        return vocabulary.tokens[Int(token)]
    }

    public func tokenID(forText text: String) -> Int32? { textTable.lookup(text) }

    public func isSpecial(_ token: Int32) -> Bool {
        guard token >= 0, Int(token) < vocabulary.count else { return false }
        let type = vocabulary.types[Int(token)]
        return type == .control || type == .unknown
    }
}
