import Engine
import JSON
import Tokenization

/// Accumulates the legacy `/v1/completions` logprobs object:
/// `{"tokens", "token_logprobs", "top_logprobs", "text_offset"}`. Offsets count characters of
/// the returned text (echoed prompt included); `top_logprobs` maps token text to logprob for the
/// k most likely tokens plus the chosen one (so up to k+1 entries, as OpenAI documents).
struct LegacyLogprobs {
    let topCount: Int
    let tokenizer: any Tokenizer
    private(set) var offset = 0
    private var tokens: [JSONValue] = []
    private var tokenLogprobs: [JSONValue] = []
    private var topLogprobs: [JSONValue] = []
    private var textOffsets: [JSONValue] = []

    init(topCount: Int, tokenizer: any Tokenizer, startOffset: Int = 0) {
        self.topCount = topCount; self.tokenizer = tokenizer; self.offset = startOffset
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Prompt tokens (`echo`): the first has no logprob (nothing predicts it). `skipCharacters`
    /// leading tokens occupy no text (a BOS the tokenizer added).
    mutating func appendPrompt(_ tokens: [Int32], logprobs: [TokenLogprob?], addedLeadingTokens: Int) {
        for (index, token) in tokens.enumerated() {
            let entry = index < logprobs.count ? logprobs[index] : nil
            append(token: token, entry: entry, takesText: index >= addedLeadingTokens)
        }
    }

    mutating func appendGenerated(_ logprobs: [TokenLogprob]) {
        for entry in logprobs { append(token: entry.token, entry: entry, takesText: true) }
    }

    private mutating func append(token: Int32, entry: TokenLogprob?, takesText: Bool) {
        tokens.append(.string(LogprobsEncoding.tokenString(token, tokenizer: tokenizer)))
        textOffsets.append(.int(offset))
        if takesText { offset += LogprobsEncoding.characterCount(token, tokenizer: tokenizer) }
        guard let entry else {
            tokenLogprobs.append(.null)
            topLogprobs.append(.null)
            return
        }
        tokenLogprobs.append(.float(entry.logprob))
        var top = JSONObject()
        for alternative in entry.top.prefix(topCount) {
            let text = LogprobsEncoding.tokenString(alternative.token, tokenizer: tokenizer)
            if top[text] == nil { top[text] = .float(alternative.logprob) }
        }
        let chosen = LogprobsEncoding.tokenString(entry.token, tokenizer: tokenizer)
        if top[chosen] == nil { top[chosen] = .float(entry.logprob) }
        topLogprobs.append(.object(top))
    }

    var json: JSONValue {
        ["tokens": .array(tokens), "token_logprobs": .array(tokenLogprobs), "top_logprobs": .array(topLogprobs),
         "text_offset": .array(textOffsets)]
    }

    /// Starts a fresh listing that continues this one's offsets (streaming chunks).
    func continuation() -> LegacyLogprobs {
        LegacyLogprobs(topCount: topCount, tokenizer: tokenizer, startOffset: offset)
    }
}
