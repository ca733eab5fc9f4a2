import Foundation
import GGUF
import Models
import TestSupport
import Testing
import Tokenization

/// Qwen2.5-Coder-0.5B-Instruct against HF transformers (fp32, weights dequantized by gguf-py):
/// prompts, tokenization, the fp32 reference path and the fast path's greedy continuations.
///
/// Tolerance: 1e-2 absolute on logits, as for SmolLM2. Both sides run fp32 on the same
/// dequantized weights and differ only in summation order (OpenBLAS sgemm against torch's
/// kernels, sdpa against textbook attention): measured here, the top-10 logits and logsumexps
/// agree within 3.5e-5, all 759,680 logits of prompt 0 within 5.1e-4 (the fixture's int16
/// storage step, ≤ 4.9e-4, dominates). A wrong bias, rope layout or norm moves logits by units.
@Suite(.serialized) struct QwenReferenceTests {
    static let logitTolerance: Float = 1e-2

    @Test func tokenizerAndChatTemplateMatchTransformers() throws { try LoadedModels.exclusive {
        guard let file = LoadedModels.qwen(LoadedModels.qwenFile) else { return }
        let tokenizer = try makeTokenizer(from: file)
        for prompt in QwenReference.shared.prompts {
            if let messages = prompt.messages {
                let template = try #require(try ChatTemplate(gguf: file), "the GGUF has no tokenizer.chat_template")
                let rendered = try template.render(
                    messages: messages.map { .object([("role", .string($0["role"] ?? "")), ("content", .string($0["content"] ?? ""))]) },
                    addGenerationPrompt: true, variables: ChatPrompt.variables(for: tokenizer))
                #expect(rendered == prompt.text)
                #expect(ChatPrompt.tokens(rendered: rendered, tokenizer: tokenizer) == prompt.input_ids)
            } else {
                #expect(tokenizer.encode(prompt.text, addSpecial: true, parseSpecial: false) == prompt.input_ids,
                        "tokens of \(prompt.text.debugDescription)")
            }
        }
    } }

    @Test func referencePathMatchesTransformers() throws { try LoadedModels.exclusive {
        guard let model = LoadedModels.qwen(LoadedModels.qwenReference) else { return }
        let reference = QwenReference.shared
        let vocabulary = model.config.vocabularySize
        #expect(vocabulary == reference.prompt0_logits.shape[1])

        // Prompt 0: every logit of every position.
        model.reset()
        let logits = model.forward(reference.prompts[0].input_ids, allLogits: true)
        let expected = QwenReference.prompt0Logits
        try #require(logits.count == expected.count)
        let worst = zip(logits, expected).map { abs($0 - $1) }.max()!
        print("Qwen reference path, prompt 0: largest logit difference \(worst) over \(logits.count) logits")
        #expect(worst < Self.logitTolerance, "largest logit difference \(worst)")

        // Every prompt, in one pass over the prompt and its greedy continuation: top-10 ids, their
        // logits and the logsumexp at every prompt position; at every later position the argmax
        // is the next token of the continuation (causal: the appended tokens change no prompt
        // row). A one-token decode step costs the reference path a read of all 2 GB of fp32
        // weights (~0.5 s), so only the chat prompt is also decoded step by step.
        var worstTop10: Float = 0, worstLogSumExp: Float = 0
        for (index, prompt) in reference.prompts.enumerated() {
            let name = prompt.text.prefix(24).debugDescription
            let continuation = prompt.greedy_continuation_ids
            model.reset()
            let all = model.forward(prompt.input_ids + continuation.dropLast(), allLogits: true)
            for position in prompt.positions {
                let row = all[position.pos * vocabulary..<(position.pos + 1) * vocabulary]
                #expect(topIndices(row, 10) == position.top10_ids, "prompt \(name) position \(position.pos)")
                let top10 = position.top10_ids.map { row[row.startIndex + Int($0)] }
                let top10Difference = zip(top10, position.top10_logits).map { abs($0 - $1) }.max()!
                let logSumExpDifference = abs(Float(logSumExp(row)) - position.logsumexp)
                worstTop10 = max(worstTop10, top10Difference)
                worstLogSumExp = max(worstLogSumExp, logSumExpDifference)
                #expect(top10Difference < Self.logitTolerance, "prompt \(name) position \(position.pos)")
                #expect(logSumExpDifference < Self.logitTolerance, "prompt \(name) position \(position.pos)")
            }
            let argmaxes = continuation.indices.map { step in
                let row = prompt.input_ids.count - 1 + step
                return topIndices(all[row * vocabulary..<(row + 1) * vocabulary], 1)[0]
            }
            #expect(argmaxes == continuation, "greedy continuation of \(name) (one pass)")

            guard prompt.messages != nil else { continue }
            model.reset()
            var next = model.forward(prompt.input_ids)
            var generated: [Int32] = []
            for step in continuation.indices {
                let token = topIndices(next[...], 1)[0]
                generated.append(token)
                if step < continuation.count - 1 { next = model.forward([token]) }
            }
            #expect(generated == continuation, "greedy continuation of prompt \(index) \(name) (decoded token by token)")
        }
        print("Qwen reference path, all prompts: top-10 logits within \(worstTop10), logsumexp within \(worstLogSumExp)")
    } }

    @Test func fastPathGreedyContinuationsMatchTransformers() throws { try LoadedModels.exclusive {
        guard let model = LoadedModels.qwen(LoadedModels.qwenFast) else { return }
        for prompt in QwenReference.shared.prompts {
            let generated = try greedyFast(model, prompt: prompt.input_ids, count: prompt.greedy_continuation_ids.count)
            let agreeing = zip(generated, prompt.greedy_continuation_ids).prefix { $0 == $1 }.count
            #expect(generated == prompt.greedy_continuation_ids,
                    "greedy continuation of \(prompt.text.prefix(24).debugDescription) departs at step \(agreeing), where transformers' margin is \(prompt.greedy_margins[min(agreeing, prompt.greedy_margins.count - 1)])")
        }
    } }
}

/// Log of the sum of exponentials of a logits row, in Double.
func logSumExp(_ row: ArraySlice<Float>) -> Double {
    let maximum = Double(row.max()!)
    return maximum + Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1) - maximum) })
}
