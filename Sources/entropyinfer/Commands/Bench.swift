import ArgumentParser
import Attention
import Foundation
import GGUF
import Kernels
import KVMemory
import Models

/// `entropyinfer bench`: prompt-processing and generation speed as llama-bench measures them.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prompt processing (ppN) and generation (tgN) speed, llama-bench style.",
        discussion: """
            ppN: N random prompt tokens from an empty context (in 512-token batches). tgN: N tokens \
            generated one at a time after D tokens of context. Each test runs once to warm up, then \
            --runs times; the median is reported. With --llama-bench, llama.cpp's llama-bench runs \
            on the same file and threads, interleaved run by run, with flash attention off and on; \
            its faster setting is compared with ours pair by pair.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, parsing: .upToNextOption, help: "Prompt lengths to test, comma separated (0 to skip).")
    var promptTokens: [String] = ["512"]

    @Option(name: .long, help: "Tokens to generate in the tg test (0 to skip).")
    var genTokens: Int = 128

    @Option(name: .long, help: "Tokens of context before each test.")
    var depth: Int = 0

    @Option(name: .long, help: "Measured runs per test.")
    var runs: Int = 5

    @Flag(name: .long, help: "Print one JSON object per line and test instead of a table.")
    var json = false

    @Option(name: .long, help: "Path of llama.cpp's llama-bench binary to compare with.")
    var llamaBench: String?

    @Flag(name: .long, help: "Also measure the machine's memory read bandwidth (1 GiB streamed).")
    var bandwidth = false

    @Option(name: .long, help: "Prefill attention policy of the pp tests: dense, reference, entropy or uniform.")
    var attention: String = "dense"

    @Option(name: .long, help: "Activation precision of the quantized matrix kernels: high (two int8 terms) or int8 (one, as llama.cpp).")
    var activationPrecision: String = "high"

    func run() throws {
        try reportingErrors {
            let path = try modelOptions.resolvedPath()
            let file = try GGUFFile(path: path)
            let threads = modelOptions.threadCount
            guard let precision = ActivationPrecision(rawValue: activationPrecision) else {
                throw ValidationError("unknown --activation-precision '\(activationPrecision)'; use high or int8")
            }
            let model = try Model(file: file, threads: ThreadPool(threadCount: threads), activationPrecision: precision)
            let promptLengths = try promptTokens.flatMap { $0.split(separator: ",") }.map { text -> Int in
                guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                    throw ValidationError("--prompt-tokens takes whole numbers, got '\(text)'")
                }
                return value
            }.filter { $0 > 0 }
            guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
            let longest = depth + max(promptLengths.max() ?? 0, genTokens) + 1
            guard longest <= model.config.contextLength else {
                throw ValidationError("depth + test length (\(longest)) exceeds the model's context of \(model.config.contextLength) tokens")
            }
            let layout = model.kvLayout()
            let pool = try KVBlockPool(layout: layout, budgetBytes: (longest + 64) * layout.streamCount
                                       * (layout.bytesPerBlock + layout.summaryBytesPerBlock) / KVLayout.blockTokens + (16 << 20))
            let policy: AttentionPolicy
            do { policy = try AttentionPolicy.named(attention) } catch { throw ValidationError("--attention: \(error)") }
            let runner = BenchRunner(model: model, pool: pool, depth: depth, attention: policy)
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            var tests: [(String, () -> Double)] = promptLengths.map { n in ("pp\(n)", { runner.prompt(n) }) }
            if genTokens > 0 { tests.append(("tg\(genTokens)", { runner.generate(genTokens) })) }

            var rows: [BenchResult] = []
            for (test, measure) in tests {
                let llama = llamaBench.map { LlamaBench(binary: $0, model: path, threads: threads, test: test, depth: depth) }
                _ = measure()                                   // warm-up
                try llama?.warmUp()
                var ours: [Double] = []
                var theirs: [Int: [Double]] = [0: [], 1: []]   // flash attention off / on
                for _ in 0..<runs {
                    ours.append(measure())
                    if let llama {
                        for flash in [0, 1] { theirs[flash]!.append(try llama.run(flashAttention: flash)) }
                    }
                }
                var result = BenchResult(engine: "entropyinfer", model: name, test: test, depth: depth, threads: threads, runs: ours)
                if test.hasPrefix("tg") {
                    // Decode reads every weight once per token plus the KV of the context so far.
                    let averageContext = Double(depth) + Double(genTokens) / 2
                    let bytes = Double(model.weightBytesPerToken) + averageContext * Double(layout.bytesPerToken)
                    result.gigabytesPerSecond = bytes * median(ours) / 1e9
                }
                rows.append(result)
                if llama != nil {
                    let best = median(theirs[0]!) >= median(theirs[1]!) ? 0 : 1
                    var other = BenchResult(engine: "llama.cpp", model: name, test: test, depth: depth, threads: threads, runs: theirs[best]!)
                    other.flashAttention = best == 1
                    other.ratio = median(zip(ours, theirs[best]!).map { $0 / $1 })
                    rows.append(other)
                }
                if json { for row in rows.suffix(llama == nil ? 1 : 2) { print(row.jsonLine) } }
            }
            let readBandwidth = bandwidth ? MemoryBandwidth.measureRead(pool: model.threads) : nil
            if json {
                if let readBandwidth {
                    print("{\"engine\":\"machine\",\"test\":\"memory_read\",\"threads\":\(threads),\"gigabytes_per_second\":\(String(format: "%.2f", readBandwidth))}")
                }
            } else {
                printTable(rows, file: file)
                if let readBandwidth { print(String(format: "Memory read bandwidth (%d threads, 1 GiB streamed): %.1f GB/s", threads, readBandwidth)) }
            }
        }
    }

    private func printTable(_ rows: [BenchResult], file: GGUFFile) {
        print("| engine | model | threads | test | depth | tokens/s (median) | min | max | ratio | decode GB/s |")
        print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in rows {
            let engine = row.engine + (row.flashAttention.map { $0 ? " (fa on)" : " (fa off)" } ?? "")
            print(String(format: "| %@ | %@ | %d | %@ | %d | %.2f | %.2f | %.2f | %@ | %@ |", engine, row.model, row.threads,
                         row.test, row.depth, row.tokensPerSecond, row.runs.min() ?? 0, row.runs.max() ?? 0,
                         row.ratio.map { String(format: "%.2f×", $0) } ?? "",
                         row.gigabytesPerSecond.map { String(format: "%.1f", $0) } ?? ""))
        }
        let cpu = "CPU: \(ProcessInfo.processInfo.activeProcessorCount) threads available"
        print("\n\(cpu); ratio = median over runs of (entropyinfer / llama.cpp) for the pair of the same run.")
    }
}

/// Runs the pp and tg measurements on a model with fresh caches.
final class BenchRunner {
    let model: Model
    let pool: KVBlockPool
    let depth: Int
    /// Prefill policy of the timed prompt (the context before it is always dense).
    let attention: AttentionPolicy
    private var random = 0x2545_F491_4F6C_DD1D as UInt64
    private var logits: [Float]

    init(model: Model, pool: KVBlockPool, depth: Int, attention: AttentionPolicy = .dense) {
        self.model = model
        self.attention = attention
        self.pool = pool
        self.depth = depth
        logits = [Float](repeating: 0, count: model.config.vocabularySize)
    }

    private func randomTokens(_ count: Int) -> [Int32] {
        (0..<count).map { _ in
            random ^= random << 13; random ^= random >> 7; random ^= random << 17
            return Int32(truncatingIfNeeded: random % UInt64(model.config.vocabularySize))
        }
    }

    /// A cache holding `depth` tokens of context (not timed).
    private func contextCache() -> KVSequence {
        let kv = KVSequence(pool: pool)
        if depth > 0 { feed(randomTokens(depth), into: kv) }
        return kv
    }

    /// Runs tokens through the model in 512-token batches (one batch for `reference`, which needs
    /// the whole prompt), logits for the last one only.
    private func feed(_ tokens: [Int32], into kv: KVSequence, policy: AttentionPolicy = .dense) {
        var start = 0
        let end = kv.positionCount + tokens.count
        let segment = policy.segmentTokens
        let denseFrom = policy.isDense || !(policy.kind == .reference || policy.denseLastSegment) ? Int.max
            : (end - 1) / segment * segment
        let step = policy.kind == .reference ? tokens.count : 512
        while start < tokens.count {
            let batch = Array(tokens[start..<min(start + step, tokens.count)])
            try! kv.reserve(appending: batch.count)
            logits.withUnsafeMutableBufferPointer {
                model.forward(.single(batch, kv: kv, attention: policy, denseFromPosition: denseFrom), logits: $0.baseAddress!)
            }
            start += batch.count
        }
    }

    /// Tokens per second of processing `count` prompt tokens.
    func prompt(_ count: Int) -> Double {
        let kv = contextCache()
        defer { kv.releaseAll() }
        let tokens = randomTokens(count)
        let start = DispatchTime.now().uptimeNanoseconds
        feed(tokens, into: kv, policy: attention)
        return Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Tokens per second of generating `count` tokens one at a time.
    func generate(_ count: Int) -> Double {
        let kv = contextCache()
        defer { kv.releaseAll() }
        var token = randomTokens(1)[0]
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<count {
            try! kv.reserve(appending: 1)
            logits.withUnsafeMutableBufferPointer { model.forward(.single([token], kv: kv), logits: $0.baseAddress!) }
            token = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
        }
        return Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

struct BenchResult {
    let engine: String
    let model: String
    let test: String
    let depth: Int
    let threads: Int
    let runs: [Double]
    var flashAttention: Bool?
    /// Median of pairwise entropyinfer / llama.cpp ratios (on the llama.cpp row).
    var ratio: Double?
    /// Decode: bytes read per token (weights + KV) × tokens/s.
    var gigabytesPerSecond: Double?

    init(engine: String, model: String, test: String, depth: Int, threads: Int, runs: [Double]) {
        self.engine = engine; self.model = model; self.test = test; self.depth = depth; self.threads = threads; self.runs = runs
    }

    var tokensPerSecond: Double { median(runs) }

    var jsonLine: String {
        var object: [String: Any] = [
            "engine": engine, "model": model, "test": test, "depth": depth, "threads": threads,
            "tokens_per_second": (tokensPerSecond * 100).rounded() / 100,
            "runs": runs.map { ($0 * 100).rounded() / 100 },
        ]
        if let flashAttention { object["flash_attention"] = flashAttention }
        if let ratio { object["ratio_entropyinfer_over_llamacpp"] = (ratio * 1000).rounded() / 1000 }
        if let gigabytesPerSecond { object["decode_gigabytes_per_second"] = (gigabytesPerSecond * 100).rounded() / 100 }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// One llama-bench measurement per call (`-r 1`), parsed from its JSON output.
struct LlamaBench {
    let binary: String
    let model: String
    let threads: Int
    let test: String
    let depth: Int

    private func arguments(flashAttention: Int) -> [String] {
        var arguments = ["-m", model, "-t", "\(threads)", "-r", "1", "-o", "json", "-d", "\(depth)",
                         "-fa", flashAttention == 1 ? "on" : "off", "--no-warmup"]
        let count = String(test.dropFirst(2))
        if test.hasPrefix("pp") { arguments += ["-p", count, "-n", "0"] } else { arguments += ["-p", "0", "-n", count] }
        return arguments
    }

    func warmUp() throws {
        for flash in [0, 1] { _ = try run(flashAttention: flash) }
    }

    /// Tokens per second of one run.
    func run(flashAttention: Int) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments(flashAttention: flashAttention)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let rows = try JSONSerialization.jsonObject(with: data) as? [[String: Any]],
              let rate = rows.first?["avg_ts"] as? Double else {
            throw ValidationError("llama-bench failed (status \(process.terminationStatus)); run it by hand: \(binary) \(arguments(flashAttention: flashAttention).joined(separator: " "))")
        }
        return rate
    }
}
