import Foundation
import GGUF

/// A tiny llama-architecture model with random F32 weights and a byte-level SentencePiece
/// vocabulary, written as a real GGUF file: engine and server tests run real forward passes in
/// milliseconds without downloading anything.
///
/// Vocabulary: 0 `<unk>`, 1 `<s>` (BOS), 2 `</s>` (EOS), 3…258 the bytes `<0x00>`…`<0xFF>`,
/// then a few whole words (`▁the`, `▁cat`, …) so text tokenizes into more than bytes.
public enum TinyModel {
    public static let hiddenSize = 64
    public static let layerCount = 2
    public static let headCount = 4
    public static let kvHeadCount = 2
    public static let feedForwardSize = 128
    public static let contextLength = 512
    public static let words = ["▁the", "▁cat", "▁sat", "▁on", "▁mat", "▁a", "▁dog"]

    public static var vocabulary: [String] {
        ["<unk>", "<s>", "</s>"] + (0..<256).map { String(format: "<0x%02X>", $0) } + words
    }

    /// Writes the model to a temporary file and returns its path.
    public static func write(seed: UInt64 = 1, contextLength: Int = contextLength) throws -> String {
        var writer = GGUFWriter()
        let tokens = vocabulary
        writer.set("general.architecture", .string("llama"))
        writer.set("general.name", .string("tiny-test-model"))
        writer.set("llama.block_count", .uint32(UInt32(layerCount)))
        writer.set("llama.context_length", .uint32(UInt32(contextLength)))
        writer.set("llama.embedding_length", .uint32(UInt32(hiddenSize)))
        writer.set("llama.feed_forward_length", .uint32(UInt32(feedForwardSize)))
        writer.set("llama.attention.head_count", .uint32(UInt32(headCount)))
        writer.set("llama.attention.head_count_kv", .uint32(UInt32(kvHeadCount)))
        writer.set("llama.rope.freq_base", .float32(10_000))
        writer.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        writer.set("tokenizer.ggml.model", .string("llama"))
        writer.set("tokenizer.ggml.tokens", .strings(tokens))
        writer.set("tokenizer.ggml.scores", .float32s(tokens.indices.map { index in index < 259 ? 0 : -Float(index) }))
        writer.set("tokenizer.ggml.token_type", .int32s(tokens.indices.map { index in
            index == 0 ? 2 : index < 3 ? 3 : index < 259 ? 6 : 1 }))
        writer.set("tokenizer.ggml.bos_token_id", .uint32(1))
        writer.set("tokenizer.ggml.eos_token_id", .uint32(2))
        writer.set("tokenizer.ggml.unknown_token_id", .uint32(0))
        writer.set("tokenizer.ggml.add_bos_token", .bool(true))
        writer.set("tokenizer.chat_template", .string(
            "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}\n{% endfor %}"
            + "{% if add_generation_prompt %}<|assistant|>{% endif %}"))

        var random = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func weights(_ count: Int, scale: Float) -> [Float] {
            (0..<count).map { _ in
                random ^= random << 13; random ^= random >> 7; random ^= random << 17
                return (Float(random % 20_001) / 10_000 - 1) * scale
            }
        }
        let h = hiddenSize, kv = kvHeadCount * (hiddenSize / headCount), f = feedForwardSize
        writer.tensors.append(.init(name: "token_embd.weight", dimensions: [h, tokens.count], floats: weights(h * tokens.count, scale: 1)))
        for layer in 0..<layerCount {
            let p = "blk.\(layer)."
            writer.tensors += [
                .init(name: p + "attn_norm.weight", dimensions: [h], floats: weights(h, scale: 0.2).map { 1 + $0 }),
                .init(name: p + "attn_q.weight", dimensions: [h, h], floats: weights(h * h, scale: 0.3)),
                .init(name: p + "attn_k.weight", dimensions: [h, kv], floats: weights(h * kv, scale: 0.3)),
                .init(name: p + "attn_v.weight", dimensions: [h, kv], floats: weights(h * kv, scale: 0.3)),
                .init(name: p + "attn_output.weight", dimensions: [h, h], floats: weights(h * h, scale: 0.2)),
                .init(name: p + "ffn_norm.weight", dimensions: [h], floats: weights(h, scale: 0.2).map { 1 + $0 }),
                .init(name: p + "ffn_gate.weight", dimensions: [h, f], floats: weights(h * f, scale: 0.2)),
                .init(name: p + "ffn_up.weight", dimensions: [h, f], floats: weights(h * f, scale: 0.2)),
                .init(name: p + "ffn_down.weight", dimensions: [f, h], floats: weights(f * h, scale: 0.2)),
            ]
        }
        writer.tensors.append(.init(name: "output_norm.weight", dimensions: [h], floats: weights(h, scale: 0.2).map { 1 + $0 }))
        return try writer.write(name: "tiny-model")
    }
}
