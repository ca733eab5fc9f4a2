/// The role of a vocabulary entry (GGUF `tokenizer.ggml.token_type`, llama.cpp's
/// `llama_token_type`).
public enum TokenType: Int32, Sendable, CaseIterable {
    case undefined = 0
    /// Ordinary text.
    case normal = 1
    /// The unknown token (`<unk>`).
    case unknown = 2
    /// Control tokens (`<s>`, `<|im_start|>`, `<|endoftext|>`): never produced from plain text,
    /// matched in the input only when special tokens are parsed, hidden when special tokens are skipped.
    case control = 3
    /// Added tokens that are always matched as whole strings in the input and always rendered.
    case userDefined = 4
    /// Reserved slots (`[PAD151665]`): never produced, rendered as nothing.
    case unused = 5
    /// Byte-fallback tokens (`<0x0A>`): stand for one raw byte.
    case byte = 6

    /// The type stored in a GGUF file; values outside the enumeration read as `undefined`, as in llama.cpp.
    public init(fileValue: Int) {
        self = Int32(exactly: fileValue).flatMap(TokenType.init(rawValue:)) ?? .undefined
    }
}
