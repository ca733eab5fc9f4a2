/// Finds the tokens with a role in generation that GGUF files often leave implicit, the way
/// llama.cpp's vocabulary loader does (its lists are reproduced below; see `special_eog_ids` in
/// `src/llama-vocab.cpp`):
///
/// - EOT, EOM and the fill-in-the-middle tokens, when their id key is absent, by their text;
/// - every token that ends generation: EOS, EOT, EOM, the FIM pad / repository / file-separator
///   tokens, and every token whose text is in `endOfGenerationTexts`.
///
/// Only added tokens (control or user-defined) are looked up by text, and those found become
/// `control` tokens (llama.cpp overrides their type the same way), so they are matched as
/// specials and hidden when special tokens are skipped. Unlike llama.cpp, ordinary tokens are
/// left alone: Qwen2's vocabulary has a learned `</s>` (id 128247, HTML strike-through) that
/// llama.cpp's list (`</s>` was added for PaddleOCR) would turn into a stop token.
struct SpecialTokenRoles {
    static let endOfTurnTexts = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
        "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ]
    static let endOfMessageTexts = ["<|eom_id|>"]
    static let fimPrefixTexts = [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>",
        "<|prefix|>",
    ]
    static let fimSuffixTexts = [
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>",
        "<|suffix|>",
    ]
    static let fimMiddleTexts = [
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>",
        "<|middle|>",
    ]
    static let fimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]
    static let fimRepositoryTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]
    static let fimSeparatorTexts = ["<|file_sep|>"]
    /// Texts of tokens that end generation whatever their id keys say.
    static let endOfGenerationTexts = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ]

    let eot: Int32?
    let eom: Int32?
    let endOfGeneration: Set<Int32>

    init(tokens: [String], types: inout [TokenType], eos: Int32?, eot: Int32?, eom: Int32?, fimPad: Int32?,
         fimRepository: Int32?, fimSeparator: Int32?) {
        // Id of each interesting text (the last token with that text, as llama.cpp's token_to_id).
        let interesting = Set(Self.endOfTurnTexts + Self.endOfMessageTexts + Self.fimPrefixTexts + Self.fimSuffixTexts
                              + Self.fimMiddleTexts + Self.fimPadTexts + Self.fimRepositoryTexts
                              + Self.fimSeparatorTexts + Self.endOfGenerationTexts)
        let firstBytes = Set(interesting.compactMap(\.utf8.first))
        var idForText: [String: Int32] = [:]
        for (index, token) in tokens.enumerated() where types[index] == .control || types[index] == .userDefined {
            guard let first = token.utf8.first, firstBytes.contains(first), interesting.contains(token) else { continue }
            idForText[token] = Int32(index)
        }

        /// The id from the key, else the first text of `texts` present in the vocabulary (made control).
        func detect(_ id: Int32?, _ texts: [String]) -> Int32? {
            if let id { return id }
            for text in texts {
                if let id = idForText[text] {
                    types[Int(id)] = .control
                    return id
                }
            }
            return nil
        }
        self.eot = detect(eot, Self.endOfTurnTexts)
        self.eom = detect(eom, Self.endOfMessageTexts)
        _ = detect(nil, Self.fimPrefixTexts)
        _ = detect(nil, Self.fimSuffixTexts)
        _ = detect(nil, Self.fimMiddleTexts)
        let fimTokens = [detect(fimPad, Self.fimPadTexts), detect(fimRepository, Self.fimRepositoryTexts),
                         detect(fimSeparator, Self.fimSeparatorTexts)]

        var endOfGeneration = Set(fimTokens.compactMap { $0 })
        for text in Self.endOfGenerationTexts {
            guard let id = idForText[text] else { continue }
            endOfGeneration.insert(id)
            types[Int(id)] = .control
        }
        for id in [eos, self.eot, self.eom] { if let id { endOfGeneration.insert(id) } }

        // llama.cpp's workarounds: with gpt-oss's <|return|> and <|call|> (or solar-open's
        // <|calls|> and <|flush|>), <|end|> only ends a message; next to Gemma 4's
        // <|tool_response> or PLaMo's <|plamo:eos|>, </s> is ordinary text.
        func present(_ text: String) -> Bool { idForText[text].map(endOfGeneration.contains) ?? false }
        if let end = idForText["<|end|>"], endOfGeneration.contains(end),
           (present("<|return|>") && present("<|call|>")) || (present("<|calls|>") && present("<|flush|>")) {
            endOfGeneration.remove(end)
            types[Int(end)] = .userDefined
        }
        if let close = idForText["</s>"], endOfGeneration.contains(close),
           present("<|tool_response>") || endOfGeneration.contains(where: { tokens[Int($0)] == "<|plamo:eos|>" }) {
            endOfGeneration.remove(close)
            types[Int(close)] = .normal
        }
        self.endOfGeneration = endOfGeneration
    }
}
