#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Microseconds per `Sampler.sample` call over one large random logits row, for the common
/// configurations; `entropyinfer bench` can print it. Meaningful in release builds only. Times
/// are CPU time of the calling thread, so a busy machine that deschedules it does not inflate
/// them (contention for the core still does).
public enum SamplerBenchmark {
    public struct Measurement: Sendable {
        public var name: String
        public var microsecondsPerSample: Double
    }

    /// Logits are uniform in [-spread/2, spread/2) from a fixed seed (vocabulary 151,936 = Qwen2.5
    /// by default); each configuration runs `iterations` times after one warm-up call. Logit bias
    /// and penalties are off, so the row is never modified and needs no copy between calls.
    public static func run(vocabularySize: Int = 151_936, iterations: Int = 200, spread: Float = 20) -> [Measurement] {
        var random = SamplerRNG(seed: 1234)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: vocabularySize)
        defer { logits.deallocate() }
        for index in 0..<vocabularySize {
            logits[index] = (Float(random.nextDouble()) - 0.5) * spread
        }

        func configuration(_ name: String, _ change: (inout SamplingParameters) -> Void) -> (String, SamplingParameters) {
            var parameters = SamplingParameters()
            parameters.seed = 42
            change(&parameters)
            return (name, parameters)
        }
        let configurations = [
            configuration("greedy") { $0.temperature = 0 },
            configuration("temperature 0.8") { $0.temperature = 0.8 },
            configuration("top-k 40") { $0.topK = 40 },
            configuration("top-p 0.95") { $0.topP = 0.95 },
            configuration("min-p 0.05") { $0.minP = 0.05 },
            configuration("top-k 40, top-p 0.95, temperature 0.8") { $0.topK = 40; $0.topP = 0.95; $0.temperature = 0.8 },
            configuration("top-k 5000") { $0.topK = 5000 },
        ]
        var results: [Measurement] = []
        var sink: Int32 = 0
        for (name, parameters) in configurations {
            let sampler = Sampler(parameters: parameters, vocabularySize: vocabularySize)
            sink &+= sampler.sample(logits: logits)
            let start = threadCPUNanoseconds()
            for _ in 0..<iterations {
                sink &+= sampler.sample(logits: logits)
            }
            let elapsed = Double(threadCPUNanoseconds() - start) / 1000 / Double(max(iterations, 1))
            results.append(Measurement(name: name, microsecondsPerSample: elapsed))
        }
        let logprobsStart = threadCPUNanoseconds()
        for _ in 0..<iterations {
            sink &+= Int32(truncatingIfNeeded: logprobs(of: logits, count: vocabularySize, chosen: 0, top: 20).top.count)
        }
        let logprobsElapsed = Double(threadCPUNanoseconds() - logprobsStart) / 1000 / Double(max(iterations, 1))
        results.append(Measurement(name: "logprobs, top 20", microsecondsPerSample: logprobsElapsed))
        if sink == .min { print("") }  // keeps the work observable
        return results
    }

    private static func threadCPUNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
