import ArgumentParser
import Attention
import Evaluation
import Foundation
import JSON

/// `entropyinfer eval`: long-context quality of each attention policy — RULER-style needle
/// retrieval and perplexity / KL against dense on real text — with prefill times.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate attention policies on long-context tasks (needle retrieval, perplexity, KL vs dense).",
        discussion: """
        Needle tasks (niah-single, niah-multi) hide "The special magic number for <key> is <7 digits>." \
        in a noise or real-text haystack at each depth, fill the model's chat-templated prompt up to the \
        context length less the answer tokens and score the greedy answer by exact match; they run through the inference \
        engine with the policy set on the request. ppl prefills consecutive windows of the Debian \
        license text once per policy and compares next-token distributions with dense. Progress goes \
        to standard error, the table to standard output.

        The defaults run 52 prefills of 8,192 tokens (4 policies × (2 tasks × 2 haystacks × 3 depths \
        × 1 sample + 1 ppl window)): at most about 1.8 hours for Qwen2.5-Coder-0.5B on 2 vCPUs (each \
        8K prefill costing as much as dense, about 125 s; sparse policies cost less), 30 to 40 minutes for \
        SmolLM2-135M. Time grows with samples × depths × tasks × haystacks × policies, and faster than \
        linearly with the context (dense attention is quadratic).
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Attention policies, comma-separated (\(AttentionPolicy.Kind.allCases.map(\.rawValue).joined(separator: ", "))); each may carry knobs of the request's attention object as :knob=value, e.g. entropy:coverage=0.99:minimum_budget_tokens=1024.")
    var policies: String = "dense,entropy,reference,uniform"

    @Option(name: .long, help: "Context lengths in tokens, comma-separated (a k suffix multiplies by 1024).")
    var context: String = "8k"

    @Option(name: .long, help: "Tasks, comma-separated (\(EvaluationTask.allCases.map(\.rawValue).joined(separator: ", "))).")
    var tasks: String = "niah-single,niah-multi,ppl"

    @Option(name: .long, help: "Needle haystacks, comma-separated (noise, text).")
    var haystacks: String = "noise,text"

    @Option(name: .long, help: "Needle samples per context, task, haystack and depth.")
    var samples: Int = 1

    @Option(name: .long, help: "Depths of the asked needle in percent, comma-separated.")
    var depths: String = "10,50,90"

    @Option(name: .long, help: "Seed of the generated tasks.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "ppl windows per context length (fewer when the text is shorter).")
    var windows: Int = 1

    @Option(name: .long, help: "Positions scored per ppl window, spread over its second half.")
    var scoredPositions: Int = 256

    @Option(name: .long, help: "Directory of the real text (its regular files, sorted, joined by blank lines).")
    var corpus: String = LicenseCorpus.defaultDirectory

    @Option(name: .long, help: "Also write the results (rows and every answer) as JSON to this file.")
    var json: String?

    func run() throws {
        try reportingErrors {
            let plan = EvaluationPlan(
                modelPath: try modelOptions.resolvedPath(), threadCount: modelOptions.threadCount,
                policies: try policies.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                    .map { spec in
                        do { return try AttentionPolicy.parse(spec: spec) } catch { throw ValidationError("--policies: \(error)") }
                    },
                contexts: try Self.list(context, "--context", expected: "token counts such as 4096 or 8k", Self.tokenCount),
                tasks: try Self.list(tasks, "--tasks", expected: EvaluationTask.allCases.map(\.rawValue).joined(separator: ", ")) {
                    EvaluationTask(rawValue: $0)
                },
                haystacks: try Self.list(haystacks, "--haystacks", expected: Haystack.Kind.allCases.map(\.rawValue).joined(separator: ", ")) {
                    Haystack.Kind(rawValue: $0)
                },
                depths: try Self.list(depths, "--depths", expected: "percentages such as 10,50,90") { Double($0).map { $0 / 100 } },
                samples: samples, windows: windows, scoredPositions: scoredPositions, seed: seed,
                corpusDirectory: corpus)
            try plan.validate()
            // Fail now, not after hours of evaluation, when the JSON cannot be written.
            if let json, !FileManager.default.createFile(atPath: json, contents: nil) {
                throw ValidationError("cannot write \(json); check that its directory exists and is writable")
            }
            let report = try EvaluationRunner(plan: plan, log: printError).run()
            print(report.table())
            print()
            print(report.sampleNote())
            if let json {
                let text = report.json().prettyPrinted() + "\n"
                guard FileManager.default.createFile(atPath: json, contents: Data(text.utf8)) else {
                    throw ValidationError("cannot write \(json); check that its directory exists and is writable")
                }
            }
        }
    }

    /// "4096" or "8k" (× 1024).
    static func tokenCount(_ text: String) -> Int? {
        if text.lowercased().hasSuffix("k") { return Int(text.dropLast()).map { $0 * 1024 } }
        return Int(text)
    }

    /// Parses a comma-separated list; an unknown item names the option and the item.
    static func list<T>(_ text: String, _ option: String, expected: String, _ parse: (String) -> T?) throws -> [T] {
        try text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { item in
            guard let value = parse(item) else { throw ValidationError("\(option): '\(item)' is not valid; expected \(expected)") }
            return value
        }
    }
}
