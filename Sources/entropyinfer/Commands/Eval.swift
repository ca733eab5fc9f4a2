import ArgumentParser
import Attention
import Evaluation
import Foundation
import JSON
import KVMemory

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
        license text once per policy and compares next-token distributions with dense; ppl-end scores \
        the same positions each as the end of its own prompt (re-running the position's segment on a \
        fork of the cache), the causal score of a sparse policy, whose segments choose blocks with \
        queries of their later tokens. Progress goes to standard error, the table to standard output. \
        With --kv-compression, each needle answer's progress line also says in how many (layer, KV head) \
        streams the prompt tokens of the expected strings survived, whole or in part (per-stream counts \
        in --json's needle_tokens_held), to tell a needle the policy dropped from one it kept but the \
        model did not read.

        The defaults run 52 prefills of 8,192 tokens (4 policies × (2 tasks × 2 haystacks × 3 depths \
        × 1 sample + 1 ppl window)): at most about 1.8 hours for Qwen2.5-Coder-0.5B on 2 vCPUs (each \
        8K prefill costing as much as dense, about 125 s; sparse policies cost less), 30 to 40 minutes for \
        SmolLM2-135M. Time grows with samples × depths × tasks × haystacks × policies, and faster than \
        linearly with the context (dense attention is quadratic).
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Attention policies (default dense,entropy,reference,uniform), comma-separated (\(AttentionPolicy.Kind.allCases.map(\.rawValue).joined(separator: ", "))); each may carry knobs of the request's attention object as :knob=value, e.g. entropy:coverage=0.99:minimum_budget_tokens=1024.")
    var policies: String?

    @Option(name: .long, help: "Context lengths in tokens, comma-separated (a k suffix multiplies by 1024).")
    var context: String = "8k"

    @Option(name: .long, help: "Tasks, comma-separated (\(EvaluationTask.allCases.map(\.rawValue).joined(separator: ", ")); default niah-single,niah-multi,ppl; with --kv-compression: \(CompressionTask.allCases.map(\.rawValue).joined(separator: ", ")), default all).")
    var tasks: String?

    @Option(name: .long, help: "Compare KV compression policies instead of attention policies: POLICY[:BUDGET][:knob=value...], comma-separated (\(KVCompressionPolicy.policyNames.joined(separator: ", "))); the uncompressed cache (none) always runs as the reference.")
    var kvCompression: String?

    @Option(name: .long, help: "With --kv-compression: budgets for the policies listed without one, comma-separated (e.g. 512,1024,2048).")
    var budgets: String?

    @Option(name: .long, help: "With --kv-compression: tokens of the decode-kl continuation.")
    var continuationTokens: Int = 256

    @Option(name: .long, help: "Needle haystacks, comma-separated (noise, text).")
    var haystacks: String = "noise,text"

    @Option(name: .long, help: "Needle samples per context, task, haystack and depth.")
    var samples: Int = 1

    @Option(name: .long, help: "Depths of the asked needle in percent, comma-separated.")
    var depths: String = "10,50,90"

    @Option(name: .long, help: "Seed of the generated tasks.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "ppl (and decode-kl) windows per context length (fewer when the text is shorter).")
    var windows: Int = 1

    @Option(name: .long, help: "Positions scored per ppl window, spread over its second half.")
    var scoredPositions: Int = 256

    @Option(name: .long, help: "Directory of the real text (its regular files, sorted, joined by blank lines).")
    var corpus: String = LicenseCorpus.defaultDirectory

    @Option(name: .long, help: "Also write the results (rows and every answer) as JSON to this file.")
    var json: String?

    @Option(name: .long, help: ArgumentHelp(
        "With --kv-compression: write the needle samples the options select as JSON lines to this file and exit without running them.",
        discussion: "Each line holds a sample's conversation in OpenAI chat form (messages), the answer prefix the evaluation forces, the expected strings and, for second-turn, the follow-up question: the same tasks can be sent to a server (scripts/replay-second-turn.py)."))
    var exportSamples: String?

    func run() throws {
        try reportingErrors {
            if kvCompression != nil {
                try runCompression()
                return
            }
            if budgets != nil { throw ValidationError("--budgets applies to --kv-compression policies") }
            if exportSamples != nil { throw ValidationError("--export-samples applies to --kv-compression tasks") }
            let plan = EvaluationPlan(
                modelPath: try modelOptions.resolvedPath(), threadCount: modelOptions.threadCount,
                policies: try Self.list(policies ?? "dense,entropy,reference,uniform", "--policies") { try AttentionPolicy.parse(spec: $0) },
                contexts: try Self.list(context, "--context", expected: "token counts such as 4096 or 8k", Self.tokenCount),
                tasks: try Self.list(tasks ?? "niah-single,niah-multi,ppl", "--tasks",
                                     expected: EvaluationTask.allCases.map(\.rawValue).joined(separator: ", ")) {
                    EvaluationTask(rawValue: $0)
                },
                haystacks: try haystackKinds(),
                depths: try depthFractions(),
                samples: samples, windows: windows, scoredPositions: scoredPositions, seed: seed,
                corpusDirectory: corpus)
            try plan.validate()
            try checkJSONWritable()
            let report = try EvaluationRunner(plan: plan, log: printError).run()
            try emit(table: report.table(), note: report.sampleNote(), json: report.json())
        }
    }

    /// `--kv-compression`: compression policies against the uncompressed cache.
    func runCompression() throws {
        guard policies == nil else {
            throw ValidationError("--policies and --kv-compression do not mix: compression tasks prefill densely")
        }
        let budgetList = try budgets.map { try Self.list($0, "--budgets", expected: "entry counts such as 512,1024") { Int($0) } }
        // Each item as written, or crossed with --budgets when it names no budget.
        let items = (kvCompression ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { item in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard let budgetList, parts[0] != "none", parts.count == 1 || Int(parts[1]) == nil else { return [item] }
            return budgetList.map { ([parts[0], Substring(String($0))] + parts.dropFirst()).joined(separator: ":") }
        }
        let compression = try Self.list(items.joined(separator: ","), "--kv-compression") { try KVCompressionPolicy.parse($0) }
        let plan = CompressionPlan(
            modelPath: try modelOptions.resolvedPath(), threadCount: modelOptions.threadCount, policies: compression,
            contexts: try Self.list(context, "--context", expected: "token counts such as 4096 or 8k", Self.tokenCount),
            tasks: try Self.list(tasks ?? CompressionTask.allCases.map(\.rawValue).joined(separator: ","), "--tasks",
                                 expected: CompressionTask.allCases.map(\.rawValue).joined(separator: ", ")) {
                CompressionTask(rawValue: $0)
            },
            haystacks: try haystackKinds(), depths: try depthFractions(), samples: samples, windows: windows,
            continuationTokens: continuationTokens, seed: seed, corpusDirectory: corpus)
        try plan.validate()
        if let exportSamples {
            let lines = try CompressionEvaluationRunner(plan: plan).exportSamples().map { $0.jsonText + "\n" }
            guard FileManager.default.createFile(atPath: exportSamples, contents: Data(lines.joined().utf8)) else {
                throw ValidationError("cannot write \(exportSamples); check that its directory exists and is writable")
            }
            printError("wrote \(lines.count) samples to \(exportSamples)")
            return
        }
        try checkJSONWritable()
        let report = try CompressionEvaluationRunner(plan: plan, log: printError).run()
        try emit(table: report.table(), note: report.sampleNote(), json: report.json())
    }

    func haystackKinds() throws -> [Haystack.Kind] {
        try Self.list(haystacks, "--haystacks", expected: Haystack.Kind.allCases.map(\.rawValue).joined(separator: ", ")) {
            Haystack.Kind(rawValue: $0)
        }
    }

    func depthFractions() throws -> [Double] {
        try Self.list(depths, "--depths", expected: "percentages such as 10,50,90") { Double($0).map { $0 / 100 } }
    }

    /// Fails now, not after hours of evaluation, when the JSON cannot be written.
    func checkJSONWritable() throws {
        if let json, !FileManager.default.createFile(atPath: json, contents: nil) {
            throw ValidationError("cannot write \(json); check that its directory exists and is writable")
        }
    }

    func emit(table: String, note: String, json value: JSONValue) throws {
        print(table)
        print()
        print(note)
        if let json {
            let text = value.prettyPrinted() + "\n"
            guard FileManager.default.createFile(atPath: json, contents: Data(text.utf8)) else {
                throw ValidationError("cannot write \(json); check that its directory exists and is writable")
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
        try list(text, option) { item in
            guard let value = parse(item) else { throw ValidationError("\(option): '\(item)' is not valid; expected \(expected)") }
            return value
        }
    }

    /// Parses a comma-separated list with a parser whose errors say what is wrong; each error
    /// is prefixed with the option.
    static func list<T>(_ text: String, _ option: String, _ parse: (String) throws -> T) throws -> [T] {
        try text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { item in
            do { return try parse(item) } catch let error as ValidationError { throw error } catch {
                throw ValidationError("\(option): \(error)")
            }
        }
    }
}
