import Foundation
import GGUF
import TestSupport
import Testing

@Suite struct GGUFFileTests {
    func sampleWriter() -> GGUFWriter {
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        writer.set("llama.block_count", .uint32(2))
        writer.set("llama.rope.freq_base", .float32(10000))
        writer.set("flag", .bool(true))
        writer.set("tokenizer.ggml.tokens", .strings(["<unk>", "a", "b", "ü漢"]))
        writer.set("tokenizer.ggml.scores", .float32s([0, -1, -2, -3]))
        writer.set("tokenizer.ggml.token_type", .int32s([2, 1, 1, 1]))
        writer.tensors = [
            .init(name: "weight", dimensions: [4, 2], floats: [1, 2, 3, 4, 5, 6, 7, 8]),
            .init(name: "norm", dimensions: [4], floats: [0.5, 0.25, 0.125, 1]),
        ]
        return writer
    }

    @Test func parsesMetadataAndTensors() throws {
        let path = try sampleWriter().write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try GGUFFile(path: path)
        #expect(file.version == 3)
        #expect(try file.string("general.architecture") == "llama")
        #expect(try file.int("llama.block_count") == 2)
        #expect(try file.double("llama.rope.freq_base") == 10000)
        #expect(file.value("flag")?.boolValue == true)
        #expect(try file.array("tokenizer.ggml.tokens").strings == ["<unk>", "a", "b", "ü漢"])
        #expect(try file.array("tokenizer.ggml.scores").floats == [0, -1, -2, -3])
        #expect(try file.array("tokenizer.ggml.token_type").integers == [2, 1, 1, 1])
        #expect(file.tensorNames == ["weight", "norm"])
        let weight = try file.tensor("weight")
        #expect(weight.dimensions == [4, 2])
        #expect(weight.type == .f32)
        #expect(weight.fileOffset % 32 == 0)
        let values = file.data(of: weight).assumingMemoryBound(to: Float.self)
        #expect((0..<8).map { values[$0] } == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(throws: GGUFError.missingTensor(path: path, name: "nope")) { try file.tensor("nope") }
        #expect(throws: GGUFError.missingKey(path: path, key: "nope")) { try file.string("nope") }
    }

    @Test func rejectsNonGGUFAndMissingFiles() throws {
        let path = NSTemporaryDirectory() + "not-gguf-\(UUID().uuidString)"
        try Data("hello world, this is not a model".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect { try GGUFFile(path: path) } throws: { error in
            guard case GGUFError.notGGUF = error else { return false }
            return "\(error)".contains("is not a GGUF file")
        }
        #expect(throws: GGUFError.fileNotFound(path: "/nonexistent/model.gguf")) {
            try GGUFFile(path: "/nonexistent/model.gguf")
        }
    }

    /// Every truncation of a valid file is rejected with a GGUFError; random byte flips are either
    /// parsed or rejected, never a crash.
    @Test func fuzzTruncationsAndByteFlips() throws {
        let original = sampleWriter().bytes()
        let directory = NSTemporaryDirectory() + "gguf-fuzz-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var rejected = 0
        func attempt(_ bytes: [UInt8], _ label: String) throws {
            let path = directory + "/\(label).gguf"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do { _ = try GGUFFile(path: path) } catch { rejected += 1; #expect(!"\(error)".isEmpty) }
        }
        // The last tensor ("norm", 16 bytes) is followed by 16 bytes of padding that may be cut.
        let dataEnd = original.count - 16
        var cuts = 0
        for length in stride(from: 0, to: dataEnd, by: 3) {
            try attempt(Array(original[0..<length]), "cut\(length)")
            cuts += 1
        }
        #expect(rejected == cuts, "every file cut before the end of its tensor data must be rejected")
        var generator = SplitMix64(seed: 42)
        for trial in 0..<1500 {
            var bytes = original
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let index = Int(generator.next() % UInt64(bytes.count))
                bytes[index] ^= UInt8(truncatingIfNeeded: 1 << (generator.next() % 8))
            }
            try attempt(bytes, "flip\(trial)")
        }
    }

    @Test func parsesRealModelWhenPulled() throws {
        guard let path = TestModels.path(TestModels.smolLM2) else {
            Issue.record(Comment(rawValue: TestModels.missingMessage(TestModels.smolLM2)))
            return
        }
        let file = try GGUFFile(path: path)
        #expect(try file.string("general.architecture") == "llama")
        #expect(file.tensors.count == 272)
        #expect(try file.tensor("blk.0.attn_q.weight").type == .q4_1)
        #expect(try file.tensor("token_embd.weight").type == .q8_0)
        #expect(try file.tensor("token_embd.weight").dimensions == [576, 49152])
        #expect(try file.array("tokenizer.ggml.tokens").count == 49152)
    }
}

/// A small deterministic generator for tests (SplitMix64).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
