import ArgumentParser
import Foundation
import GGUF
import Kernels

/// `entropyinfer kernel-bench`: matrix kernel throughput per weight type and shape, for decode
/// (one activation row) and prefill (many rows), on 1 and 2 threads. Weights are random blocks
/// of the type, packed as the engine packs them.
struct KernelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel-bench",
        abstract: "Measure matrix kernel GFLOP/s and weight GB/s per type and shape.",
        shouldDisplay: false)

    @Option(help: "Weight types, comma separated (e.g. q4_1,q8_0), or 'all'.")
    var types = "q4_0,q4_1,q5_0,q8_0,q4_k,q6_k"

    @Option(help: "Shapes N×K (outputs × inputs), comma separated, e.g. 576x576,4864x896.")
    var shapes = "576x576,1536x576,576x1536,49152x576,896x896,4864x896,896x4864,151936x896"

    @Option(help: "Activation row counts, comma separated.")
    var rows = "1,512"

    @Option(help: "Thread counts, comma separated.")
    var threads = "1,2"

    @Option(help: "Instruction-set level: portable, avx2, avx512 (default: the best this CPU has).")
    var isa: String?

    @Option(help: "Activation precision of the quantized kernels: balanced (two int8 terms on high-energy blocks), high (two everywhere) or int8 (one).")
    var activationPrecision = "high"

    @Option(help: "Minimum seconds per measurement; the best of the timed calls is reported.")
    var seconds = 0.5

    @Flag(help: "One JSON object per line instead of a table.")
    var json = false

    func run() throws {
        let level = try isa.map { name in
            guard let level = KernelISA.allCases.first(where: { $0.description == name }) else {
                throw ValidationError("unknown --isa '\(name)'; use portable, avx2 or avx512")
            }
            guard level.rawValue <= KernelISA.best.rawValue else {
                throw ValidationError("this CPU cannot run --isa \(name) (best: \(KernelISA.best))")
            }
            return level
        } ?? KernelISA.best
        guard let precision = ActivationPrecision(rawValue: activationPrecision) else {
            throw ValidationError("unknown --activation-precision '\(activationPrecision)'; use balanced, high or int8")
        }
        let typeList = try parseTypes(types)
        let shapeList = try shapes.split(separator: ",").map { text -> (Int, Int) in
            let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else { throw ValidationError("bad shape '\(text)'; use N×K like 896x4864") }
            return (parts[0], parts[1])
        }
        let rowCounts = try integers(rows, "rows"), threadCounts = try integers(threads, "threads")
        if !json {
            print("kernel-bench: level \(level), cpu features: \(KernelISA.cpuFeatures)")
            print("Wall: best call. CPU: process CPU time per call, all threads (robust to preemption on a busy machine).")
            print("type   shape (N×K)     rows thr   ms/call   GFLOP/s   weight GB/s   cpu ms/call   GFLOP/cpu-s")
        }
        for type in typeList {
            for (n, k) in shapeList {
                guard k % type.blockSize == 0 else {
                    if !json { print("\(pad(type.name, 6)) \(pad("\(n)×\(k)", 14)) skipped: K is not a multiple of \(type.blockSize)") }
                    continue
                }
                let weights = QuantTestData.randomRows(type: type, rowCount: n, columnCount: k, seed: UInt64(n * 31 + k))
                let matrix = try weights.withUnsafeBytes {
                    try WeightMatrix(type: type, rowCount: n, columnCount: k, data: $0.baseAddress!, activationPrecision: precision)
                }
                for m in rowCounts {
                    let input = QuantTestData.randomActivations(count: m * k, seed: 5)
                    var output = [Float](repeating: 0, count: m * n)
                    for threadCount in threadCounts {
                        let pool = ThreadPool(threadCount: threadCount)
                        let scratch = MatMulScratch()
                        let (best, cpu) = measure(seconds: seconds) {
                            matrix.multiply(input: input, rowCount: m, output: &output, pool: pool, scratch: scratch, isa: level)
                        }
                        let flops = 2.0 * Double(m) * Double(n) * Double(k)
                        let gflops = flops / best / 1e9, cpuGflops = flops / cpu / 1e9
                        let gbps = m == 1 ? Double(matrix.packedByteCount) / best / 1e9 : nil
                        if json {
                            let bandwidth = gbps.map { String(format: "%.2f", $0) } ?? "null"
                            print("{\"type\":\"\(type.name)\",\"rows\":\(n),\"columns\":\(k),\"input_rows\":\(m),\"threads\":\(threadCount),"
                                  + "\"isa\":\"\(level)\",\"seconds\":\(best),\"cpu_seconds\":\(cpu),\"gflops\":\(String(format: "%.2f", gflops)),"
                                  + "\"gflops_per_cpu_second\":\(String(format: "%.2f", cpuGflops)),\"weight_gbps\":\(bandwidth)}")
                        } else {
                            print("\(pad(type.name, 6)) \(pad("\(n)×\(k)", 14)) \(pad(String(m), 5, right: true)) \(pad(String(threadCount), 3, right: true))"
                                  + " \(pad(String(format: "%.3f", best * 1000), 9, right: true)) \(pad(String(format: "%.1f", gflops), 9, right: true))"
                                  + " \(pad(gbps.map { String(format: "%.1f", $0) } ?? "", 13, right: true))"
                                  + " \(pad(String(format: "%.3f", cpu * 1000), 13, right: true)) \(pad(String(format: "%.1f", cpuGflops), 13, right: true))")
                        }
                        fflush(nil)
                    }
                }
            }
        }
    }

    /// Best wall seconds per call and mean process CPU seconds per call: warm up once, then time
    /// calls until `seconds` have passed (at least 3 calls unless they are very slow).
    private func measure(seconds: Double, _ body: () -> Void) -> (wall: Double, cpu: Double) {
        body()
        var best = Double.infinity, total = 0.0, calls = 0
        let cpuStart = processCPUSeconds()
        while total < seconds || calls < 3 {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = min(best, elapsed)
            total += elapsed
            calls += 1
            if total > 4 * seconds { break }
        }
        return (best, (processCPUSeconds() - cpuStart) / Double(calls))
    }

    private func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    private func parseTypes(_ text: String) throws -> [GGMLType] {
        if text == "all" { return WeightMatrix.supportedTypes }
        return try text.split(separator: ",").map { name in
            guard let type = WeightMatrix.supportedTypes.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                throw ValidationError("unknown type '\(name)'; supported: \(WeightMatrix.supportedTypes.map(\.name).joined(separator: ", "))")
            }
            return type
        }
    }

    private func integers(_ text: String, _ option: String) throws -> [Int] {
        try text.split(separator: ",").map {
            guard let value = Int($0), value > 0 else { throw ValidationError("bad --\(option) value '\($0)'") }
            return value
        }
    }

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }
}
