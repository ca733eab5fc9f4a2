import Engine
import JSON
import Tokenization

/// Logprobs in the two OpenAI shapes.
enum LogprobsEncoding {
    /// Chat: `{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}` per
    /// token; `token` is the token's text (invalid UTF-8 replaced), `bytes` its exact bytes.
    static func chatContent(_ logprobs: [TokenLogprob], topCount: Int, tokenizer: any Tokenizer) -> JSONValue {
        .array(logprobs.map { entry in
            var object = chatEntry(token: entry.token, logprob: entry.logprob, tokenizer: tokenizer)
            object["top_logprobs"] = .array(entry.top.prefix(topCount).map {
                .object(chatEntry(token: $0.token, logprob: $0.logprob, tokenizer: tokenizer))
            })
            return .object(object)
        })
    }

    private static func chatEntry(token: Int32, logprob: Float, tokenizer: any Tokenizer) -> JSONObject {
        let bytes = tokenizer.pieceBytes(token)
        return ["token": .string(String(decoding: bytes, as: UTF8.self)), "logprob": .float(logprob),
                "bytes": .array(bytes.map { .int(Int($0)) })]
    }

    /// The text a legacy listing shows for a token.
    static func tokenString(_ token: Int32, tokenizer: any Tokenizer) -> String {
        String(decoding: tokenizer.pieceBytes(token), as: UTF8.self)
    }

    /// Characters (Unicode scalars, as Python counts them) a token adds to the text: the UTF-8
    /// sequences it starts.
    static func characterCount(_ token: Int32, tokenizer: any Tokenizer) -> Int {
        tokenizer.pieceBytes(token).reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }
}
