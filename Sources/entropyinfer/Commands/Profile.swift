import ArgumentParser
import Attention
import Evaluation
import Foundation
import GGUF
import Kernels
import Models
import Tokenization

/// `entropyinfer profile`: the entropy profile of one prompt's prefill under a sparse policy,
/// drawn as one SVG (and written as JSON).
struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw the attention entropy of every layer and KV head over a prompt's segments.",
        discussion: """
        Prefills the prompt once under the policy and records, for every sparse segment of every \
        layer, each KV head's entropy of its estimated attention over earlier key blocks (nats, \
        8-token blocks) and the past-context budget it selected. Segments that run dense (the \
        first --dense-below tokens, layers below the policy's dense layers, the last segment) are \
        not profiled. A head is marked rigid when its entropy stays below the policy's \
        rigid_entropy_threshold in every profiled segment (the released method's rule).
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "A text file with the prompt.")
    var promptFile: String

    @Flag(name: .long, help: "Wrap the prompt as a user message in the model's chat template.")
    var chat = false

    @Option(name: .long, help: "The sparse policy to profile (\(AttentionPolicy.Kind.allCases.filter { !AttentionPolicy(kind: $0).isDense }.map(\.rawValue).joined(separator: ", "))).")
    var policy: String = "entropy"

    @Option(name: .long, help: "Positions before this run dense and are not profiled (the policy's default: 4096).")
    var denseBelow: Int?

    @Option(name: .long, help: "The SVG to write.")
    var out: String

    @Option(name: .long, help: "Also write the numbers as JSON to this file.")
    var json: String?

    func run() throws {
        try reportingErrors {
            var attention = try AttentionPolicy.parse(spec: policy)
            guard !attention.isDense else { throw ValidationError("--policy dense profiles nothing; pick a sparse policy") }
            if let denseBelow {
                guard denseBelow >= 0 else { throw ValidationError("--dense-below must be 0 or more") }
                attention.denseBelowTokens = denseBelow
            }
            guard let data = FileManager.default.contents(atPath: promptFile) else {
                throw ValidationError("cannot read --prompt-file \(promptFile)")
            }
            for path in [out] + (json.map { [$0] } ?? []) where !FileManager.default.createFile(atPath: path, contents: nil) {
                throw ValidationError("cannot write \(path); check that its directory exists and is writable")
            }
            let path = try modelOptions.resolvedPath()
            let file = try GGUFFile(path: path)
            let tokenizer = try makeTokenizer(from: file)
            let text = String(decoding: data, as: UTF8.self)
            let tokens: [Int32]
            if chat {
                guard let template = try ChatTemplate(gguf: file) else {
                    throw ValidationError("the model has no chat template; drop --chat")
                }
                tokens = try ChatPromptFormat(template: template, tokenizer: tokenizer).tokens(userMessage: text, answerPrefix: "")
            } else {
                tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: false)
            }
            let model = try Model(file: file, threads: ThreadPool(threadCount: modelOptions.threadCount))
            guard tokens.count <= model.config.contextLength else {
                throw ValidationError("the prompt has \(tokens.count) tokens; the model's context is \(model.config.contextLength)")
            }
            guard tokens.count > attention.denseBelowTokens + attention.segmentTokens else {
                throw ValidationError("the prompt has \(tokens.count) tokens: nothing past the dense first \(attention.denseBelowTokens) tokens and the last segment is sparse; use a longer prompt or a smaller --dense-below")
            }

            let result = try PromptProfiler.profile(
                model: model, modelName: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent,
                tokens: tokens, policy: attention)
            let profile = result.profile
            try ProfileSVGRenderer().render(profile).write(toFile: out, atomically: true, encoding: .utf8)
            if let json {
                try (profile.json().prettyPrinted() + "\n").write(toFile: json, atomically: true, encoding: .utf8)
            }
            printError(String(format: "%d tokens in %.1f s; %d of %d heads rigid; attention computed %.1f%% of dense pairs; wrote %@",
                              tokens.count, result.seconds, profile.rigidHeadCount, profile.heads.count,
                              100 * Double(result.attention.pairsComputed) / Double(max(1, result.attention.pairsDense)), out))
        }
    }
}
