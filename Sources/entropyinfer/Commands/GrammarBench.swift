import ArgumentParser
import Engine
import Foundation
import GGUF
import Grammar
import JSON
import Sampling
import Tokenization

/// `entropyinfer bench-grammar`: decode speed with and without a grammar, same model and prompt.
struct GrammarBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-grammar",
        abstract: "Compare constrained (grammar / JSON Schema) and unconstrained decode speed on one prompt.",
        discussion: """
            Each run generates greedily from the same chat prompt twice through the engine: once \
            free (end of generation ignored, --gen-tokens tokens) and once under the grammar (at \
            most --gen-tokens tokens; it stops when the grammar is complete and nothing can \
            follow). Decode speed is (tokens - 1) / time after the first token, so the vocabulary \
            trie (built by the warm-up) and the prompt are not counted. The ratio is the median \
            of per-run constrained / unconstrained ratios; the issue's target is at least 0.8.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "'json' (any JSON object), a JSON Schema file (*.json) or a GBNF file (*.gbnf).")
    var grammar: String = "json"

    @Option(name: .long, help: "The user message.")
    var prompt: String = "Describe a fictional person as a JSON object with a name, an age, a city, a list of hobbies and a long biography."

    @Option(name: .long, help: "Tokens to generate at most per run.")
    var genTokens: Int = 128

    @Option(name: .long, help: "Measured runs (after one warm-up).")
    var runs: Int = 5

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        try reportingErrors {
            guard runs >= 1, genTokens >= 2 else { throw ValidationError("--runs must be ≥ 1 and --gen-tokens ≥ 2") }
            let constraint = try loadGrammar()
            let path = try modelOptions.resolvedPath()
            var configuration = EngineConfiguration(modelPath: path)
            configuration.threadCount = modelOptions.threadCount
            configuration.maxQueuedRequests = 1
            let engine = try InferenceEngine(configuration: configuration)
            defer { engine.shutdown() }
            let tokens = try promptTokens(tokenizer: engine.tokenizer, file: GGUFFile(path: path))

            func measure(_ grammar: Grammar?) throws -> (tokensPerSecond: Double, tokens: Int, text: String) {
                var request = GenerationRequest(id: "bench-grammar", prompt: tokens, sampling: SamplingParameters.greedy)
                request.maxTokens = genTokens
                request.ignoreEOS = true
                request.cachePrompt = false
                request.grammar = grammar
                let handle = try engine.submit(request)
                var text = ""
                while true {
                    switch handle.next(timeout: 3600) {
                    case .event(.text(let piece, _, _)): text += piece
                    case .event(.finished(_, let usage)):
                        let seconds = usage.generationMilliseconds / 1000
                        return (Double(max(usage.completionTokens - 1, 0)) / max(seconds, 1e-9), usage.completionTokens, text)
                    case .event(.failed(let error)): throw error
                    case .event, .timeout: continue
                    case .end: throw ValidationError("the generation ended without a result")
                    }
                }
            }
            _ = try measure(nil)                       // warm-up (and the trie, below)
            let sample = try measure(constraint)
            var free: [Double] = [], constrained: [Double] = [], constrainedTokens: [Int] = []
            for _ in 0..<runs {
                free.append(try measure(nil).tokensPerSecond)
                let result = try measure(constraint)
                constrained.append(result.tokensPerSecond)
                constrainedTokens.append(result.tokens)
            }
            let ratio = median(zip(constrained, free).map { $0 / $1 })
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            if json {
                let report: JSONValue = [
                    "model": .string(name), "grammar": .string(grammar), "threads": .int(modelOptions.threadCount),
                    "runs": .int(runs), "unconstrained_tokens_per_second": .double(median(free)),
                    "constrained_tokens_per_second": .double(median(constrained)),
                    "constrained_tokens": .int(constrainedTokens.sorted()[constrainedTokens.count / 2]), "ratio": .double(ratio),
                ]
                print(report.jsonText)
            } else {
                print("| model | grammar | threads | unconstrained tok/s | constrained tok/s | constrained tokens | ratio |")
                print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
                print(String(format: "| %@ | %@ | %d | %.2f | %.2f | %d | %.3f |", name, grammar, modelOptions.threadCount,
                             median(free), median(constrained), constrainedTokens.sorted()[constrainedTokens.count / 2], ratio))
                printError("constrained output (warm-up run): \(sample.text)")
            }
        }
    }

    private func loadGrammar() throws -> Grammar {
        if grammar == "json" { return Grammar.anyJSONObject }
        guard let data = FileManager.default.contents(atPath: grammar) else {
            throw ValidationError("--grammar: cannot read '\(grammar)'; give 'json', a JSON Schema file (*.json) or a GBNF file (*.gbnf)")
        }
        do {
            if grammar.hasSuffix(".gbnf") { return try Grammar(gbnf: String(decoding: data, as: UTF8.self)) }
            return try Grammar(jsonSchema: JSONValue.parse(Array(data)))
        } catch let error as GrammarError {
            throw ValidationError("--grammar '\(grammar)': \(error.message)")
        } catch {
            throw ValidationError("--grammar '\(grammar)' is not valid JSON: \(error)")
        }
    }

    private func promptTokens(tokenizer: any Tokenizer, file: GGUFFile) throws -> [Int32] {
        guard let template = try ChatTemplate(gguf: file) else {
            return tokenizer.encode(prompt, addSpecial: true, parseSpecial: false)
        }
        let text = try template.render(messages: [.object([("role", .string("user")), ("content", .string(prompt))])],
                                       addGenerationPrompt: true, variables: ChatPrompt.variables(for: tokenizer))
        return ChatPrompt.tokens(rendered: text, tokenizer: tokenizer)
    }
}

extension SamplingParameters {
    fileprivate static var greedy: SamplingParameters {
        var parameters = SamplingParameters()
        parameters.temperature = 0
        return parameters
    }
}
