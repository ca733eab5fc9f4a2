/// Token ids of a vocabulary that matter to generation.
public struct SpecialTokens: Sendable, Equatable {
    public var bos: Int32?
    public var eos: Int32?
    public var eot: Int32?
    public var unknown: Int32?
    public var padding: Int32?
    /// Every token that ends generation (EOS, EOT, `<|im_end|>`, `<|endoftext|>`, `<|eot_id|>`…).
    public var endOfGeneration: Set<Int32>
    /// Whether encoding with `addSpecial: true` prepends BOS / appends EOS.
    public var addBOS: Bool
    public var addEOS: Bool

    public init(bos: Int32? = nil, eos: Int32? = nil, eot: Int32? = nil, unknown: Int32? = nil, padding: Int32? = nil,
                endOfGeneration: Set<Int32> = [], addBOS: Bool = false, addEOS: Bool = false) {
        self.bos = bos; self.eos = eos; self.eot = eot; self.unknown = unknown; self.padding = padding
        self.endOfGeneration = endOfGeneration; self.addBOS = addBOS; self.addEOS = addEOS
    }
}

/// Text ↔ token ids for one vocabulary. Implementations are immutable and safe to share
/// between threads. `makeTokenizer(from:)` builds the one a GGUF file describes.
public protocol Tokenizer: Sendable {
    var vocabularySize: Int { get }
    var specialTokens: SpecialTokens { get }

    /// Whether encoding puts a space before text at the start of the input (SentencePiece's
    /// `add_space_prefix`); decoding from the start of a text then drops that space.
    var addsSpacePrefix: Bool { get }

    /// Token ids of `text`. `addSpecial` adds BOS/EOS as the vocabulary asks; `parseSpecial`
    /// turns the text of special/control tokens (e.g. `<|im_start|>`) into their ids instead of
    /// tokenizing them as plain text. User-defined tokens are matched whole either way.
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32]

    /// The raw bytes a token stands for (byte-level BPE bytes decoded, SentencePiece `▁` as space,
    /// byte-fallback tokens as their byte). Special tokens give their text; unused tokens nothing.
    func pieceBytes(_ token: Int32) -> [UInt8]

    /// Appends `pieceBytes(token)` to `output` (no intermediate array).
    func appendPieceBytes(_ token: Int32, to output: inout [UInt8])

    /// The token's text as stored in the vocabulary (for logprob listings and `/tokenize` pieces).
    func tokenText(_ token: Int32) -> String

    /// Id of a token whose vocabulary text is exactly `text`, if any.
    func tokenID(forText text: String) -> Int32?

    /// Control and unknown tokens: matched from text only with `parseSpecial`, hidden by `skipSpecial`.
    func isSpecial(_ token: Int32) -> Bool
}

extension Tokenizer {
    public var addsSpacePrefix: Bool { false }

    public func appendPieceBytes(_ token: Int32, to output: inout [UInt8]) {
        output.append(contentsOf: pieceBytes(token))
    }

    /// Decodes ids to text; invalid UTF-8 (a sequence cut mid-character) becomes U+FFFD.
    /// Pieces are concatenated as they are, which suits a continuation of earlier text.
    public func decode(_ tokens: [Int32], skipSpecial: Bool = false) -> String {
        var bytes: [UInt8] = []
        for token in tokens where !(skipSpecial && isSpecial(token)) {
            appendPieceBytes(token, to: &bytes)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes ids to text. With `startOfText` the tokens begin the text, so for vocabularies
    /// that add a space prefix the space that encoding added is dropped from the first rendered
    /// piece, and `decode(encode(x, …), startOfText: true) == x`.
    public func decode(_ tokens: [Int32], skipSpecial: Bool = false, startOfText: Bool) -> String {
        var detokenizer = StreamingDetokenizer(tokenizer: self, skipSpecial: skipSpecial, startOfText: startOfText)
        var text = ""
        for token in tokens { text += detokenizer.append(token) }
        return text + detokenizer.finish()
    }

    public func isEndOfGeneration(_ token: Int32) -> Bool { specialTokens.endOfGeneration.contains(token) }
}
