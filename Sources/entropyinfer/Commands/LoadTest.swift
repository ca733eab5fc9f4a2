import ArgumentParser
import Foundation
import LoadGeneration

/// `entropyinfer loadtest`: concurrent streaming chat clients against an OpenAI-compatible
/// server on this machine (and optionally llama.cpp's llama-server with the same load), with
/// throughput and latency percentiles per concurrency level.
struct LoadTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Measure a local OpenAI-compatible server under concurrent streaming clients.",
        discussion: """
            Each level runs N concurrent clients, one thread each, sending streamed chat completions \
            (temperature 0, ignore_eos, max_tokens G, stream_options.include_usage) over plain HTTP/1.1 \
            on loopback, and reports aggregate generated tokens/s, requests/s, time to first token, \
            inter-token latency and end-to-end latency percentiles (nearest rank), and errors by status. \
            Only loopback URLs are accepted (127.0.0.0/8, ::1, localhost).

            With --llama-server, the same prompts and settings run against llama.cpp's llama-server too, \
            alternating the two servers level by level, and the report adds the ratio of aggregate \
            tokens/s (ours / llama.cpp). Start llama-server with enough slots and context for the load, \
            e.g. `llama-server -m MODEL.gguf -t 2 -np 8 -c 16384 --host 127.0.0.1 --port 8081` \
            (each slot gets c/np tokens of context).

            --background-prompt-tokens T measures head-of-line blocking: each level runs once unloaded, \
            then again after one long streaming request of T prompt tokens was started, reporting its \
            time to first token and that of the short requests started while it prefilled. \
            --turns 2 measures prefix reuse across chat turns: the second turn resends the history, the \
            answer and a new question; the report shows each turn's time to first token and cached tokens.

            Examples:
              entropyinfer loadtest --url http://127.0.0.1:8080 --clients 1,4,8 --prompt-tokens 128 --max-tokens 64
              entropyinfer loadtest --url http://127.0.0.1:8080 --llama-server http://127.0.0.1:8081 --clients 1,8
              entropyinfer loadtest --url http://127.0.0.1:8080 --clients 1 --requests 4 --background-prompt-tokens 6000
              entropyinfer loadtest --url http://127.0.0.1:8080 --clients 1 --turns 2 --prompt-tokens 4000
            """)

    @Option(help: "Base URL of the server under test, e.g. http://127.0.0.1:8080 (loopback only).")
    var url: String

    @Option(help: "Comma-separated concurrency levels.")
    var clients: String = "1,4,8,16"

    @Option(name: .customLong("llama-server"), help: "Base URL of a llama.cpp llama-server to run the same load against.")
    var llamaServer: String?

    @Option(help: "Requests (conversations with --turns) per level in total (default: 4 per client).")
    var requests: Int?

    @Option(help: "Instead of --requests: seconds during which each level's clients keep starting requests.")
    var duration: Double?

    @Option(name: .customLong("prompt-tokens"), help: "About this many tokens of synthetic text per prompt.")
    var promptTokens: Int = 128

    @Option(name: .customLong("shared-prefix"), help: "Tokens at the start of every prompt shared by all requests (prefix-cache runs).")
    var sharedPrefix: Int = 0

    @Option(name: .customLong("max-tokens"), help: "Tokens every request generates (max_tokens with ignore_eos).")
    var maxTokens: Int = 64

    @Option(help: "Model name to send (default: the first id of the server's /v1/models).")
    var model: String?

    @Option(name: .customLong("llama-model"), help: "Model name to send to llama-server (default: its /v1/models).")
    var llamaModel: String?

    @Option(name: .customLong("api-key"), help: "Bearer token sent to both servers.")
    var apiKey: String?

    @Flag(help: "Print one JSON object per line instead of Markdown.")
    var json = false

    @Option(help: "Unmeasured requests sent one at a time to each server first.")
    var warmup: Int = 2

    @Option(help: "Seed of the synthetic prompts (default: from the clock, so a rerun does not hit the server's prefix cache; the report shows it).")
    var seed: UInt64?

    @Option(help: "Turns per conversation (2: multi-turn prefix reuse).")
    var turns: Int = 1

    @Option(name: .customLong("background-prompt-tokens"), help: "Head-of-line mode: prompt tokens of one long request started before each loaded level.")
    var backgroundPromptTokens: Int?

    @Option(name: .customLong("background-lead"), help: "Seconds between starting the background request and the clients.")
    var backgroundLead: Double = 0.5

    @Option(help: "Seconds any socket operation may wait (a long prefill sends nothing for a while).")
    var timeout: Double = 600

    @Option(name: .customLong("ready-timeout"), help: "Seconds to wait for each server's /health to answer 200.")
    var readyTimeout: Double = 120

    func run() throws {
        var plan = LoadTestPlan(clientCounts: [])
        var problems: [String] = []
        for part in clients.split(separator: ",", omittingEmptySubsequences: false) {
            guard let count = Int(part.trimmingCharacters(in: .whitespaces)) else {
                problems.append("--clients '\(clients)': '\(part)' is not a number; pass levels like 1,4,8,16")
                continue
            }
            plan.clientCounts.append(count)
        }
        plan.requestsPerLevel = requests
        plan.durationSeconds = duration
        plan.promptTokens = promptTokens
        plan.sharedPrefixTokens = sharedPrefix
        plan.maxTokens = maxTokens
        plan.warmupRequests = warmup
        plan.seed = seed ?? UInt64(Date().timeIntervalSince1970 * 1000) % 1_000_000_007
        plan.turnCount = turns
        plan.backgroundPromptTokens = backgroundPromptTokens
        plan.backgroundLeadSeconds = backgroundLead
        plan.timeoutSeconds = timeout
        problems += plan.problems()
        if !(readyTimeout >= 0) { problems.append("--ready-timeout must not be negative") }
        if !(backgroundLead >= 0) { problems.append("--background-lead must not be negative") }

        var targets: [LoadTarget] = []
        do {
            targets.append(LoadTarget(name: "entropyinfer", client: LoopbackHTTPClient(
                endpoint: try LoopbackEndpoint(url: url), timeout: timeout, apiKey: apiKey), model: model))
            if let llamaServer {
                targets.append(LoadTarget(name: "llama.cpp", client: LoopbackHTTPClient(
                    endpoint: try LoopbackEndpoint(url: llamaServer), timeout: timeout, apiKey: apiKey), model: llamaModel))
            }
        } catch {
            problems.append(error.message)
        }
        guard problems.isEmpty else {
            for problem in problems { printError("error: \(problem)") }
            throw ExitCode(2)
        }

        let runner = LoadTestRunner(plan: plan) { message in printError(message) }
        do {
            targets = try targets.map { target throws(LoadTestError) in
                printError("\(target.name): waiting for \(target.client.endpoint), \(plan.warmupRequests) warm-up requests…")
                return try runner.prepare(target, readySeconds: readyTimeout)
            }
        } catch {
            printError("error: \(error.message)")
            throw ExitCode.failure
        }
        let results = runner.run(targets) { result in
            guard json else { return }
            print(LoadTestReport.json(result).jsonText)
            fflush(nil)
        }
        let report = LoadTestReport(plan: plan, targets: targets, results: results)
        if json {
            for ratio in report.ratios { print(LoadTestReport.json(ratio).jsonText) }
        } else {
            print(report.markdown)
        }
        if results.contains(where: { $0.succeededCount == 0 }) {
            printError("error: every request of at least one level failed (see the errors above)")
            throw ExitCode.failure
        }
    }
}
