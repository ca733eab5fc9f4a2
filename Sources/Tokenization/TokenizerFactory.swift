import GGUF

/// The tokenizer a GGUF file describes: byte-level BPE for `tokenizer.ggml.model = gpt2` (with
/// the pre-tokenizer `tokenizer.ggml.pre` names), SentencePiece BPE for `llama`. Throws a
/// `TokenizerError` naming the unsupported model or pre-tokenizer and listing the supported ones.
public func makeTokenizer(from file: GGUFFile) throws(TokenizerError) -> any Tokenizer {
    try makeTokenizer(vocabulary: Vocabulary(file: file))
}

/// The tokenizer for an already loaded vocabulary.
public func makeTokenizer(vocabulary: Vocabulary) throws(TokenizerError) -> any Tokenizer {
    switch vocabulary.model {
    case .bytePairEncoding: return try BytePairTokenizer(vocabulary: vocabulary)
    case .sentencePiece: return try SentencePieceTokenizer(vocabulary: vocabulary)
    }
}
