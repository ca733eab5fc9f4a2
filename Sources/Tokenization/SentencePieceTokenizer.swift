/// SentencePiece BPE (`tokenizer.ggml.model = llama`): Llama 2, TinyLlama, Mistral v0.1, stories260K…
///
/// Encoding, per text fragment between special tokens (as llama.cpp's `llm_tokenizer_spm`):
/// a space is put in front when the fragment starts the input or follows a special token and the
/// vocabulary asks for it (`add_space_prefix`); spaces become `▁`; the text starts as one symbol
/// per character, and the adjacent pair whose concatenation is the highest-scoring token is
/// merged until no pair forms a token (ties: leftmost). A character that is not a token becomes
/// its byte-fallback tokens `<0xNN>`, or the unknown token when the vocabulary has none.
///
/// As in SentencePiece, only normal and user-defined tokens can be formed by merging: control,
/// unknown, byte and unused tokens never come out of plain text.
public final class SentencePieceTokenizer: Tokenizer {
    public let vocabulary: Vocabulary
    public let specialTokens: SpecialTokens
    public var vocabularySize: Int { vocabulary.count }
    public var addsSpacePrefix: Bool { vocabulary.addSpacePrefix }

    private let pieces: PieceTable
    /// Every token's text → id (for `tokenID(forText:)`).
    private let textTable: ByteStringTable
    /// Texts of the tokens merging can produce → id.
    private let mergeableTable: ByteStringTable
    /// The byte-fallback token of each byte value, -1 when absent.
    private let byteTokens: [Int32]
    private let splitter: SpecialTokenSplitter

    private static let escapedSpace: [UInt8] = [0xE2, 0x96, 0x81]  // U+2581 ▁

    public init(vocabulary: Vocabulary) throws(TokenizerError) {
        guard vocabulary.model == .sentencePiece else {
            throw .unsupportedModel(path: vocabulary.path, model: vocabulary.model.rawValue,
                                    supported: [Vocabulary.Model.sentencePiece.summary])
        }
        self.vocabulary = vocabulary
        specialTokens = vocabulary.specialTokens
        let keys = vocabulary.tokens.map { Array($0.utf8) }
        textTable = ByteStringTable(strings: vocabulary.tokens)
        var mergeableKeys: [[UInt8]] = []
        var mergeableIDs: [Int32] = []
        for (index, type) in vocabulary.types.enumerated() where type == .normal || type == .userDefined {
            mergeableKeys.append(keys[index])
            mergeableIDs.append(Int32(index))
        }
        mergeableTable = ByteStringTable(keys: mergeableKeys, values: mergeableIDs)
        let hexDigits = Array("0123456789ABCDEF".utf8)
        byteTokens = (0..<256).map { [textTable] byte in
            let hex: [UInt8] = [0x3C, 0x30, 0x78, hexDigits[byte >> 4], hexDigits[byte & 15], 0x3E]  // <0xNN>
            if let id = textTable.lookup(hex) { return id }
            if byte < 0x80, let id = textTable.lookup([UInt8(byte)]) { return id }
            return -1
        }
        pieces = PieceTable.build(vocabulary: vocabulary) { text, pool in
            var index = 0
            while index < text.count {
                if index + 2 < text.count, text[index] == 0xE2, text[index + 1] == 0x96, text[index + 2] == 0x81 {
                    pool.append(0x20)  // ▁
                    index += 3
                } else {
                    pool.append(text[index])
                    index += 1
                }
            }
        }
        splitter = SpecialTokenSplitter(tokens: vocabulary.tokens, types: vocabulary.types)
    }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        var output: [Int32] = []
        if addSpecial, specialTokens.addBOS, let bos = specialTokens.bos { output.append(bos) }
        var text = text
        text.withUTF8 { bytes in
            var session = Session()
            var escaped: [UInt8] = []
            var previousWasSpecial = true
            for fragment in splitter.split(bytes, parseSpecial: parseSpecial) {
                switch fragment {
                case .token(let token):
                    output.append(token)
                    previousWasSpecial = true
                case .text(let range):
                    escaped.removeAll(keepingCapacity: true)
                    if vocabulary.addSpacePrefix && previousWasSpecial { escaped.append(contentsOf: Self.escapedSpace) }
                    for byte in bytes[range] {
                        if byte == 0x20 { escaped.append(contentsOf: Self.escapedSpace) } else { escaped.append(byte) }
                    }
                    escaped.withUnsafeBufferPointer { encodeEscaped($0, session: &session, into: &output) }
                    previousWasSpecial = false
                }
            }
        }
        if addSpecial, specialTokens.addEOS, let eos = specialTokens.eos { output.append(eos) }
        return output
    }

    /// Scratch state of one `encode` call.
    private struct Session {
        /// Per symbol: byte start and length in `text`, neighbours in the list (-1: none).
        var starts: [Int32] = []
        var lengths: [Int32] = []
        var previous: [Int32] = []
        var next: [Int32] = []
        var heap: [Candidate] = []
    }

    /// A candidate merge of the symbol at `left` with its right neighbour, valid while the two
    /// still span `length` bytes.
    private struct Candidate {
        var score: Float
        var left: Int32
        var right: Int32
        var length: Int32

        /// Higher score first, then leftmost (SentencePiece's `SymbolPairComparator`).
        @inline(__always)
        func precedes(_ other: Candidate) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    /// Encodes one fragment whose spaces are already escaped.
    private func encodeEscaped(_ text: UnsafeBufferPointer<UInt8>, session: inout Session, into output: inout [Int32]) {
        session.starts.removeAll(keepingCapacity: true)
        session.lengths.removeAll(keepingCapacity: true)
        session.previous.removeAll(keepingCapacity: true)
        session.next.removeAll(keepingCapacity: true)
        session.heap.removeAll(keepingCapacity: true)
        let byteCount = text.count
        var offset = 0
        while offset < byteCount {
            let lead = text[offset]
            let length = min(lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1,
                             byteCount - offset)
            let index = Int32(session.starts.count)
            session.starts.append(Int32(offset))
            session.lengths.append(Int32(length))
            session.previous.append(index - 1)
            offset += length
            session.next.append(offset < byteCount ? index + 1 : -1)
        }
        let symbolCount = session.starts.count
        guard symbolCount > 0 else { return }
        do {
            for index in 0..<(symbolCount - 1) { addCandidate(Int32(index), Int32(index + 1), text, &session) }
            while let candidate = popCandidate(&session) {
                let left = Int(candidate.left)
                let right = Int(candidate.right)
                guard session.lengths[left] > 0, session.lengths[right] > 0,
                      session.lengths[left] + session.lengths[right] == candidate.length else { continue }
                session.lengths[left] = candidate.length
                session.lengths[right] = 0
                let after = session.next[right]
                session.next[left] = after
                if after >= 0 { session.previous[Int(after)] = Int32(left) }
                if session.previous[left] >= 0 { addCandidate(session.previous[left], Int32(left), text, &session) }
                if after >= 0 { addCandidate(Int32(left), after, text, &session) }
            }
            var index: Int32 = 0
            while index >= 0 {
                let start = Int(session.starts[Int(index)])
                let symbol = UnsafeBufferPointer(rebasing: text[start..<(start + Int(session.lengths[Int(index)]))])
                if let token = mergeableTable.lookup(symbol) {
                    output.append(token)
                } else if symbol.allSatisfy({ byteTokens[Int($0)] >= 0 }) {
                    for byte in symbol { output.append(byteTokens[Int(byte)]) }
                } else if let unknown = specialTokens.unknown {
                    output.append(unknown)
                }
                index = session.next[Int(index)]
            }
        }
    }

    @inline(__always)
    private func addCandidate(_ left: Int32, _ right: Int32, _ text: UnsafeBufferPointer<UInt8>, _ session: inout Session) {
        let start = Int(session.starts[Int(left)])
        let length = Int(session.lengths[Int(left)] + session.lengths[Int(right)])
        guard let token = mergeableTable.lookup(UnsafeBufferPointer(rebasing: text[start..<(start + length)])) else { return }
        let candidate = Candidate(score: vocabulary.scores[Int(token)], left: left, right: right, length: Int32(length))
        session.heap.append(candidate)
        var child = session.heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard candidate.precedes(session.heap[parent]) else { break }
            session.heap[child] = session.heap[parent]
            child = parent
        }
        session.heap[child] = candidate
    }

    private func popCandidate(_ session: inout Session) -> Candidate? {
        guard let last = session.heap.popLast() else { return nil }
        guard !session.heap.isEmpty else { return last }
        let top = session.heap[0]
        var parent = 0
        let count = session.heap.count
        while true {
            var child = 2 * parent + 1
            guard child < count else { break }
            if child + 1 < count, session.heap[child + 1].precedes(session.heap[child]) { child += 1 }
            guard session.heap[child].precedes(last) else { break }
            session.heap[parent] = session.heap[child]
            parent = child
        }
        session.heap[parent] = last
        return top
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
