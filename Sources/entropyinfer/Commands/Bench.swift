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
            generated one at a time after D tokens of context (the context is computed once and \
            shared by every run, as a prefix cache would). Each test runs once to warm up, then \
            --runs times; the median is reported. With --llama-bench, llama.cpp's llama-bench runs \
            on the same file and threads, interleaved run by run, with flash attention off and on; \
            its faster setting is compared with ours pair by pair.

            --kv-compression POLICY[:BUDGET] compresses the session's KV cache during tg as the \
            server would (the context's last tokens are recomputed each run so the policy sees its \
            observation queries). tg speed is then measured over the tokens after the policy's \
            output-aware step (after decode step decode_gap + 1 = 17 with the defaults), for every \
            policy including none, and the KV bytes held at the end are reported against the \
            uncompressed cache.
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

    @Option(name: .long, help: "Prefill attention policy of the pp tests: dense, reference, entropy or uniform, optionally with :knob=value knobs (e.g. entropy:coverage=0.99).")
    var attention: String = "dense"

    @Option(name: .long, help: "Activation precision of the quantized matrix kernels: balanced (two int8 terms on high-energy blocks), high (two everywhere) or int8 (one, as llama.cpp).")
    var activationPrecision: String = "high"

    @Option(name: .long, help: "KV compression of the tg test: POLICY[:BUDGET][:knob=value...], comma separated to compare several on one shared context (none, streaming, snapkv, latent, entropy).")
    var kvCompression: String?

    func run() throws {
        try reportingErrors {
            let path = try modelOptions.resolvedPath()
            let file = try GGUFFile(path: path)
            let threads = modelOptions.threadCount
            guard let precision = ActivationPrecision(rawValue: activationPrecision) else {
                throw ValidationError("unknown --activation-precision '\(activationPrecision)'; use balanced, high or int8")
            }
            let model = try Model(file: file, threads: ThreadPool(threadCount: threads), activationPrecision: precision)
            let promptLengths = try promptTokens.flatMap { $0.split(separator: ",") }.map { text -> Int in
                guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                    throw ValidationError("--prompt-tokens takes whole numbers, got '\(text)'")
                }
                return value
            }.filter { $0 > 0 }
            guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
            let longest = depth + max(promptLengths.max() ?? 0, genTokens)   // positions 0..<longest
            guard longest <= model.config.contextLength else {
                throw ValidationError("depth + test length (\(longest)) exceeds the model's context of \(model.config.contextLength) tokens")
            }
            let layout = model.kvLayout()
            let policy: AttentionPolicy
            do { policy = try AttentionPolicy.parse(spec: attention) } catch { throw ValidationError("--attention: \(error)") }
            var compressions: [KVCompressionPolicy] = []
            if let kvCompression {
                for text in kvCompression.split(separator: ",") {
                    do { compressions.append(try KVCompressionPolicy.parse(text.trimmingCharacters(in: .whitespaces))) } catch {
                        throw ValidationError("--kv-compression: \(error)")
                    }
                }
            }
            // The shared context, a run's own cache, and the expanded copies GQA-expanding policies make.
            let group = model.config.queryHeadCount / model.config.kvHeadCount
            let expanded = compressions.map { $0.expandsGQA ? group * ($0.budget + genTokens + 64) : 0 }.max() ?? 0
            let tokenBudget = 2 * (longest + 64) + expanded
            let pool = try KVBlockPool(layout: layout, budgetBytes: tokenBudget * layout.streamCount
                                       * (layout.bytesPerBlock + layout.summaryBytesPerBlock) / KVLayout.blockTokens + (16 << 20))
            let runner = BenchRunner(model: model, pool: pool, depth: depth, attention: policy)
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let untimed = compressions.map { $0.decodeGap + 1 }.max() ?? 0
            if genTokens > 0, !compressions.isEmpty, genTokens <= untimed {
                throw ValidationError("--gen-tokens must exceed the \(untimed) untimed decode steps of --kv-compression")
            }

            // Test groups: each pp test alone; the tg tests (one per compression policy) together,
            // interleaved run by run so the machine's drift affects every policy alike.
            struct Test {
                var name: String
                var compression: KVCompressionPolicy?
                var measure: () -> Double
                var statistics: BenchRunner.DecodeStatistics? = nil
            }
            var groups: [[Test]] = promptLengths.map { n in [Test(name: "pp\(n)", measure: { runner.prompt(n) })] }
            if genTokens > 0 {
                if compressions.isEmpty {
                    groups.append([Test(name: "tg\(genTokens)", measure: { runner.generate(genTokens) })])
                } else {
                    groups.append(compressions.map { compression in
                        Test(name: "tg\(genTokens)", compression: compression,
                             measure: { runner.generate(genTokens, compression: compression, untimed: untimed) })
                    })
                }
            }

            var rows: [BenchResult] = []
            for var group in groups {
                let test = group[0].name
                let llama = llamaBench.map { LlamaBench(binary: $0, model: path, threads: threads, test: test, depth: depth) }
                for item in group { _ = item.measure() }           // warm-up
                try llama?.warmUp()
                var ours = [[Double]](repeating: [], count: group.count)
                var theirs: [Int: [Double]] = [0: [], 1: []]   // flash attention off / on
                for _ in 0..<runs {
                    for index in group.indices {
                        ours[index].append(group[index].measure())
                        if test.hasPrefix("tg") { group[index].statistics = runner.lastStatistics }
                    }
                    if let llama {
                        for flash in [0, 1] { theirs[flash]!.append(try llama.run(flashAttention: flash)) }
                    }
                }
                let best = median(theirs[0]!) >= median(theirs[1]!) ? 0 : 1
                var groupRows: [BenchResult] = []
                for (index, item) in group.enumerated() {
                    var result = BenchResult(engine: "entropyinfer", model: name, test: test, depth: depth, threads: threads,
                                             runs: ours[index])
                    if let statistics = item.statistics {
                        // Decode reads every weight once per token plus the KV the cache holds.
                        let bytes = Double(model.weightBytesPerToken) + statistics.meanKVBytes
                        result.gigabytesPerSecond = bytes * median(ours[index]) / 1e9
                        if let compression = item.compression {
                            result.kvCompression = compression.shortDescription
                            result.kvCompressionKnobs = compression.description
                            result.timedTokens = genTokens - untimed
                            result.kvBytesEnd = statistics.kvBytes
                            result.kvBytesUncompressed = statistics.uncompressedKVBytes
                            result.compressionRounds = statistics.compressionRounds
                            result.longestRoundSeconds = statistics.longestRoundSeconds
                        }
                    }
                    if llama != nil && group.count > 1 { result.ratio = median(zip(ours[index], theirs[best]!).map { $0 / $1 }) }
                    groupRows.append(result)
                }
                if llama != nil {
                    var other = BenchResult(engine: "llama.cpp", model: name, test: test, depth: depth, threads: threads, runs: theirs[best]!)
                    other.flashAttention = best == 1
                    if group.count == 1 { other.ratio = median(zip(ours[0], theirs[best]!).map { $0 / $1 }) }
                    groupRows.append(other)
                }
                if json { for row in groupRows { print(row.jsonLine) } }
                rows += groupRows
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
        let compressed = rows.contains { $0.kvCompression != nil }
        print("| engine | model | threads | test | depth | tokens/s (median) | min | max | ratio | decode GB/s |"
              + (compressed ? " KV compression | timed tokens | KV MiB at end | uncompressed MiB | rounds | longest round s |" : ""))
        print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |" + (compressed ? " --- | ---: | ---: | ---: | ---: | ---: |" : ""))
        for row in rows {
            let engine = row.engine + (row.flashAttention.map { $0 ? " (fa on)" : " (fa off)" } ?? "")
            var line = String(format: "| %@ | %@ | %d | %@ | %d | %.2f | %.2f | %.2f | %@ | %@ |", engine, row.model, row.threads,
                              row.test, row.depth, row.tokensPerSecond, row.runs.min() ?? 0, row.runs.max() ?? 0,
                              row.ratio.map { String(format: "%.2f×", $0) } ?? "",
                              row.gigabytesPerSecond.map { String(format: "%.1f", $0) } ?? "")
            if compressed {
                if let policy = row.kvCompression {
                    line += String(format: " %@ | %d | %.1f | %.1f | %d | %.2f |", policy, row.timedTokens ?? 0,
                                   Double(row.kvBytesEnd ?? 0) / 1_048_576, Double(row.kvBytesUncompressed ?? 0) / 1_048_576,
                                   row.compressionRounds ?? 0, row.longestRoundSeconds ?? 0)
                } else {
                    line += " | | | | | |"
                }
            }
            print(line)
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
    /// The tg context, computed once: every run adopts its full blocks (shared, as prefix-cache
    /// hits are) and computes the rest itself.
    private var template: KVSequence?
    private var templateTokens: [Int32] = []

    /// Of a tg run: KV bytes held at the end, what the positions hold uncompressed, the mean
    /// KV bytes held over the timed tokens, and the compression rounds run (count, the longest's
    /// wall time: the pause it adds to one decode step, untimed in tokens/s).
    struct DecodeStatistics {
        var kvBytes = 0
        var uncompressedKVBytes = 0
        var meanKVBytes = 0.0
        var compressionRounds = 0
        var longestRoundSeconds = 0.0
    }
    private(set) var lastStatistics = DecodeStatistics()

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

    /// A cache holding `depth` tokens of context (not timed): the template's full blocks, then
    /// at least the last `recompute` tokens computed here (recording their queries).
    private func contextCache(recompute: Int = 1, observation: ObservationWindow? = nil) -> KVSequence {
        let kv = KVSequence(pool: pool)
        guard depth > 0 else { return kv }
        if template == nil {
            let shared = KVSequence(pool: pool)
            templateTokens = randomTokens(depth)
            feed(templateTokens, into: shared)
            template = shared
        }
        let adopted = max(0, depth - recompute) / KVLayout.blockTokens
        kv.adopt(prefix: (0..<adopted).map { template!.streamBlocks(atBlock: $0)! })
        feed(Array(templateTokens[kv.positionCount...]), into: kv, observation: observation)
        return kv
    }

    /// Runs tokens through the model in 512-token batches (one batch for `reference`, which needs
    /// the whole prompt), logits for the last one only.
    private func feed(_ tokens: [Int32], into kv: KVSequence, policy: AttentionPolicy = .dense,
                      observation: ObservationWindow? = nil) {
        var start = 0
        let end = kv.positionCount + tokens.count
        let denseFrom = policy.denseFromPosition(promptTokens: end)
        let step = policy.kind == .reference ? tokens.count : 512
        while start < tokens.count {
            let batch = Array(tokens[start..<min(start + step, tokens.count)])
            try! kv.reserve(appending: batch.count)
            _ = logits.withUnsafeMutableBufferPointer {
                model.forward(.single(batch, kv: kv, attention: policy, denseFromPosition: denseFrom, observation: observation),
                              logits: $0.baseAddress!)
            }
            start += batch.count
        }
    }

    /// Tokens per second of processing `count` prompt tokens.
    func prompt(_ count: Int) -> Double {
        let kv = KVSequence(pool: pool)
        defer { kv.releaseAll() }
        if depth > 0 { feed(randomTokens(depth), into: kv) }
        let tokens = randomTokens(count)
        let start = DispatchTime.now().uptimeNanoseconds
        feed(tokens, into: kv, policy: attention)
        return Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Tokens per second of generating `count` tokens one at a time, under `compression` (the
    /// server's compressor after every pass), timing the tokens after the first `untimed`
    /// (the policies' output-aware round happens within them, so speeds compare).
    func generate(_ count: Int, compression: KVCompressionPolicy? = nil, untimed: Int = 0) -> Double {
        let compressor = compression.flatMap { model.makeCompressor(policy: $0) }
        let window = compressor?.window
        let kv = contextCache(recompute: max(1, compression?.observedTokens ?? 0), observation: window)
        defer { kv.releaseAll() }
        compressor?.afterForward(kv: kv, promptTokens: depth)
        var token = randomTokens(1)[0]
        var start = DispatchTime.now().uptimeNanoseconds
        var heldBytes = 0.0
        for step in 0..<count {
            if step == untimed { start = DispatchTime.now().uptimeNanoseconds }
            try! kv.reserve(appending: 1)
            logits.withUnsafeMutableBufferPointer {
                _ = model.forward(.single([token], kv: kv, observation: window), logits: $0.baseAddress!)
            }
            compressor?.afterForward(kv: kv, promptTokens: depth)
            if step >= untimed { heldBytes += Double(kv.heldBytes) }
            token = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        lastStatistics = DecodeStatistics(kvBytes: kv.heldBytes, uncompressedKVBytes: kv.uncompressedBytes,
                                          meanKVBytes: heldBytes / Double(count - untimed),
                                          compressionRounds: compressor?.statistics.compressions ?? 0,
                                          longestRoundSeconds: compressor?.statistics.longestRoundSeconds ?? 0)
        return Double(count - untimed) / seconds
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
    /// tg under --kv-compression: the policy, tokens timed, KV bytes at the end and uncompressed.
    var kvCompression: String?
    var kvCompressionKnobs: String?
    var timedTokens: Int?
    var kvBytesEnd: Int?
    var kvBytesUncompressed: Int?
    /// tg under --kv-compression: rounds run in the last run, and the longest one's seconds.
    var compressionRounds: Int?
    var longestRoundSeconds: Double?

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
        if let kvCompression { object["kv_compression"] = kvCompression }
        if let kvCompressionKnobs { object["kv_compression_knobs"] = kvCompressionKnobs }
        if let timedTokens { object["timed_tokens"] = timedTokens }
        if let kvBytesEnd { object["kv_bytes_end"] = kvBytesEnd }
        if let kvBytesUncompressed { object["kv_bytes_uncompressed"] = kvBytesUncompressed }
        if let compressionRounds { object["compression_rounds"] = compressionRounds }
        if let longestRoundSeconds { object["longest_round_seconds"] = (longestRoundSeconds * 1000).rounded() / 1000 }
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
