/// Per-request sampling knobs, already validated (ranges checked by the server before they get here).
///
/// Defaults are OpenAI's: temperature 1, top_p 1, no top-k, no min-p, no penalties, no bias.
/// `Sampler` documents the order in which they apply.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 means greedy (argmax, ties to the lowest token id); below 1e-5 counts as 0, as in vLLM.
    public var temperature: Float = 1
    /// Nucleus sampling mass in (0, 1]; 1 disables it.
    public var topP: Float = 1
    /// Keep the k most likely tokens; 0 disables it.
    public var topK: Int = 0
    /// Drop tokens whose probability is below minP × the top probability; 0 disables it.
    public var minP: Float = 0
    /// OpenAI presence penalty in [-2, 2]: subtracted once from every token already generated.
    public var presencePenalty: Float = 0
    /// OpenAI frequency penalty in [-2, 2]: subtracted per occurrence in the generated tokens.
    public var frequencyPenalty: Float = 0
    /// CTRL-style repetition penalty (> 0, 1 disables it) over prompt and generated tokens,
    /// as vLLM and transformers apply it: positive logits divided, negative multiplied.
    public var repetitionPenalty: Float = 1
    /// How many of the most recent tokens (prompt + generated) the repetition penalty looks at;
    /// 0 (the default) means all of them, as vLLM does. This is llama.cpp's `repeat_last_n`, whose
    /// values differ: 64 by default, 0 disables the penalty, -1 means the whole context.
    public var repetitionPenaltyLastN: Int = 0
    /// Added to the logits of the given token ids before anything else (OpenAI `logit_bias`).
    public var logitBias: [Int32: Float] = [:]
    /// RNG seed; nil draws one from the system generator (reported back so runs can be repeated).
    public var seed: UInt64? = nil

    public init() {}

    public var isGreedy: Bool { temperature == 0 }
}
