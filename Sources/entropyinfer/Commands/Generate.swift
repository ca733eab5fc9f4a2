import ArgumentParser
import Attention
import Engine
import Foundation
import GGUF
import KVMemory
import Models
import Sampling
import Tokenization

/// `entropyinfer generate`: complete one prompt on the command line, streaming the text.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text from a prompt, streaming it to standard output.",
        discussion: "Prompt and generation speeds are printed to standard error.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "The prompt text (empty: start from BOS when the vocabulary uses one).")
    var prompt: String = ""

    @Option(name: .long, help: "Read the prompt text from this file instead of --prompt.")
    var promptFile: String?

    @Option(name: .long, help: "Prefill attention policy: dense, reference, entropy or uniform (any prompt length), optionally with :knob=value knobs (e.g. entropy:coverage=0.99).")
    var attention: String = "dense"

    @Option(name: .long, help: "KV cache compression during decoding: POLICY[:BUDGET][:knob=value...] (knobs as in the request's kv_compression object), POLICY one of none, streaming, snapkv, latent, entropy (any prompt length).")
    var kvCompression: String = "none"

    @Flag(name: .long, help: "Wrap the prompt as a user message in the model's chat template.")
    var chat = false

    @Option(name: .long, help: "Tokens to generate at most (default: until the context is full).")
    var maxTokens: Int?

    @Option(name: .long, help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(name: .long, help: "Random seed for sampling.")
    var seed: UInt64?

    @Flag(name: .long, help: "Use the plain fp32 reference forward pass (slow; the oracle of the fast path).")
    var reference = false

    func run() throws {
        try reportingErrors {
            let path = try modelOptions.resolvedPath()
            if reference {
                try runReference(path: path)
            } else {
                try runEngine(path: path)
            }
        }
    }

    /// The prompt's token ids, tokenized exactly as the server does (`ChatPrompt`).
    private func promptTokens(tokenizer: any Tokenizer, file: GGUFFile) throws -> [Int32] {
        var prompt = self.prompt
        if let promptFile {
            guard let data = FileManager.default.contents(atPath: promptFile) else {
                throw ValidationError("cannot read --prompt-file '\(promptFile)'")
            }
            prompt = String(decoding: data, as: UTF8.self)
        }
        var tokens: [Int32]
        if chat {
            guard let template = try ChatTemplate(gguf: file) else {
                throw ValidationError("the model has no chat template; drop --chat")
            }
            let text = try template.render(
                messages: [.object([("role", .string("user")), ("content", .string(prompt))])],
                addGenerationPrompt: true, variables: ChatPrompt.variables(for: tokenizer))
            tokens = ChatPrompt.tokens(rendered: text, tokenizer: tokenizer)
        } else {
            tokens = tokenizer.encode(prompt, addSpecial: true, parseSpecial: false)
        }
        if tokens.isEmpty, let bos = tokenizer.specialTokens.bos { tokens = [bos] }
        guard !tokens.isEmpty else {
            throw ValidationError("the prompt is empty and the vocabulary has no BOS token to start from")
        }
        return tokens
    }

    private var sampling: SamplingParameters {
        var parameters = SamplingParameters()
        parameters.temperature = temperature
        parameters.seed = seed
        return parameters
    }

    private func runEngine(path: String) throws {
        var configuration = EngineConfiguration(modelPath: path)
        configuration.threadCount = modelOptions.threadCount
        configuration.maxQueuedRequests = 1
        let engine = try InferenceEngine(configuration: configuration)
        let file = try GGUFFile(path: path)
        let tokens = try promptTokens(tokenizer: engine.tokenizer, file: file)
        var request = GenerationRequest(id: "cli", prompt: tokens, sampling: sampling)
        request.maxTokens = maxTokens
        do {
            request.attention = try AttentionPolicy.parse(spec: attention)
        } catch {
            throw ValidationError("--attention: \(error)")
        }
        do {
            request.kvCompression = try KVCompressionPolicy.parse(kvCompression)
        } catch {
            throw ValidationError("--kv-compression: \(error)")
        }
        let handle = try engine.submit(request)
        loop: while true {
            switch handle.next(timeout: 3600) {
            case .event(.text(let text, _, _)):
                FileHandle.standardOutput.write(Data(text.utf8))
            case .event(.finished(let reason, let usage)):
                FileHandle.standardOutput.write(Data("\n".utf8))
                let promptSeconds = usage.promptMilliseconds / 1000
                let generationSeconds = usage.generationMilliseconds / 1000
                printError(String(format: "prompt: %d tokens, %.1f tokens/s | generated: %d tokens, %.1f tokens/s | finish: %@",
                                  usage.promptTokens, Double(usage.promptTokens) / max(promptSeconds, 1e-9),
                                  usage.completionTokens,
                                  Double(max(usage.completionTokens - 1, 0)) / max(generationSeconds, 1e-9),
                                  reason.rawValue))
                if usage.kvCompressionPolicy != "none" {
                    printError(String(format: "kv compression: %@ (budget %d), %d rounds, %d entries evicted, KV %.1f MiB held vs %.1f MiB uncompressed (%.1f%%)",
                                      usage.kvCompressionPolicy, usage.kvCompressionBudget, usage.kvCompressions,
                                      usage.kvEntriesEvicted, Double(usage.kvBytes) / 1_048_576,
                                      Double(usage.kvBytesUncompressed) / 1_048_576,
                                      100 * Double(usage.kvBytes) / Double(max(1, usage.kvBytesUncompressed))))
                }
                if usage.attentionPairsDense > 0 {
                    printError(String(format: "attention: %@, %.1f%% of dense query-key pairs computed",
                                      usage.attentionPolicy,
                                      100 * Double(usage.attentionPairsComputed) / Double(usage.attentionPairsDense)))
                }
                break loop
            case .event(.failed(let error)):
                throw error
            case .event, .timeout:
                continue
            case .end:
                break loop
            }
        }
        engine.shutdown()
    }

    private func runReference(path: String) throws {
        let file = try GGUFFile(path: path)
        let model = try ReferenceModel(file: file)
        let tokenizer = try makeTokenizer(from: file)
        let tokens = try promptTokens(tokenizer: tokenizer, file: file)
        let limit = min(maxTokens ?? Int.max, model.config.contextLength - tokens.count)
        let sampler = Sampler(parameters: sampling, vocabularySize: model.config.vocabularySize, promptTokens: tokens,
                              endOfGenerationTokens: tokenizer.specialTokens.endOfGeneration)
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecial: true)
        let promptStart = Date()
        var logits = model.forward(tokens)
        let promptSeconds = Date().timeIntervalSince(promptStart)
        let generationStart = Date()
        var generated = 0
        var reason = "length"
        while generated < limit {
            let token = logits.withUnsafeMutableBufferPointer { sampler.sample(logits: $0.baseAddress!) }
            sampler.accept(token)
            generated += 1
            if tokenizer.isEndOfGeneration(token) { reason = "stop"; break }
            FileHandle.standardOutput.write(Data(detokenizer.append(token).utf8))
            if generated < limit { logits = model.forward([token]) }
        }
        FileHandle.standardOutput.write(Data((detokenizer.finish() + "\n").utf8))
        let generationSeconds = Date().timeIntervalSince(generationStart)
        printError(String(format: "reference path | prompt: %d tokens, %.1f tokens/s | generated: %d tokens, %.1f tokens/s | finish: %@",
                          tokens.count, Double(tokens.count) / max(promptSeconds, 1e-9), generated,
                          Double(generated) / max(generationSeconds, 1e-9), reason))
    }
}
