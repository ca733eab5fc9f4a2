/// The measurements of one server at one concurrency level and phase.
public struct LevelResult: Sendable {
    public var server: String
    public var model: String?
    public var clientCount: Int
    /// "steady"; "idle" or "background" (head-of-line runs); "turn 1", "turn 2"… (multi-turn runs).
    public var phase: String
    /// Seconds from the first request's start to the last one's end (the whole level, all turns).
    public var wallSeconds: Double
    public var requestCount: Int
    public var succeededCount: Int
    /// Failed requests by `RequestFailure.key`.
    public var failures: [String: Int]
    /// An example message per failure key.
    public var failureExamples: [String: String]
    /// Tokens the server reported generating (`usage.completion_tokens`; text events where it sent no usage).
    public var generatedTokens: Int
    /// Text-carrying stream events received (one per token unless a server merges tokens).
    public var contentEventCount: Int
    /// Succeeded requests whose generated count differs from `max_tokens`.
    public var mismatchedLengthCount: Int
    /// Tokens per second and requests per second over the whole level (all its phases' requests
    /// for multi-turn runs, where every turn row shows the level's figure).
    public var tokensPerSecond: Double
    public var requestsPerSecond: Double
    /// The rate of running streams, prefill excluded: clients × Σ (text events after the first) /
    /// Σ (seconds from the first to the last text event), over the phase's succeeded requests.
    /// With one client it is 1 / mean inter-token gap; with many it is what batched decode
    /// delivers while the streams run (each step's share of prefill chunks still slows it).
    public var decodeTokensPerSecond: Double
    /// Milliseconds, nearest-rank percentiles.
    public var timeToFirstToken: SampleSummary
    public var interTokenLatency: SampleSummary
    public var endToEndLatency: SampleSummary
    /// Server-reported prompt and cached prompt tokens per request.
    public var promptTokens: SampleSummary
    public var cachedTokens: SampleSummary
    /// Head-of-line runs: the background request and the short requests it overlapped.
    public var background: BackgroundResult?
    /// The server's own view while the level ran (its `/metrics`), when it exports one.
    public var serverLoad: ServerLoad?
}

/// The long request of a head-of-line run.
public struct BackgroundResult: Sendable {
    public var promptTokens: Int?
    /// Milliseconds; nil when it failed.
    public var timeToFirstToken: Double?
    public var failure: String?
    /// Short requests started before the background request's first token (while it prefilled),
    /// and their time to first token (ms).
    public var overlappingTimeToFirstToken: SampleSummary
}

extension LevelResult {
    /// Summarizes `measurements` (the requests of one phase); throughput uses `levelMeasurements`
    /// (every request of the level) over the level's wall time.
    public init(server: String, model: String?, clientCount: Int, phase: String, maxTokens: Int,
                measurements: [RequestMeasurement], levelMeasurements: [RequestMeasurement]) {
        self.server = server; self.model = model; self.clientCount = clientCount; self.phase = phase
        let start = levelMeasurements.map(\.startTime).min() ?? 0
        let end = levelMeasurements.map(\.endTime).max() ?? 0
        wallSeconds = max(end - start, 0)
        requestCount = measurements.count
        let succeeded = measurements.filter(\.succeeded)
        succeededCount = succeeded.count
        var failures: [String: Int] = [:]
        var examples: [String: String] = [:]
        for failure in measurements.compactMap(\.failure) {
            failures[failure.key, default: 0] += 1
            if examples[failure.key] == nil { examples[failure.key] = failure.message }
        }
        self.failures = failures
        failureExamples = examples
        generatedTokens = succeeded.reduce(0) { $0 + $1.generatedTokens }
        contentEventCount = succeeded.reduce(0) { $0 + $1.contentTimes.count }
        mismatchedLengthCount = succeeded.filter { $0.generatedTokens != maxTokens }.count
        let levelSucceeded = levelMeasurements.filter(\.succeeded)
        let levelTokens = levelSucceeded.reduce(0) { $0 + $1.generatedTokens }
        tokensPerSecond = wallSeconds > 0 ? Double(levelTokens) / wallSeconds : 0
        requestsPerSecond = wallSeconds > 0 ? Double(levelSucceeded.count) / wallSeconds : 0
        let streaming = succeeded.filter { $0.contentTimes.count >= 2 }
        let decodeEvents = streaming.reduce(0) { $0 + $1.contentTimes.count - 1 }
        let decodeSeconds = streaming.reduce(0.0) { $0 + ($1.contentTimes.last! - $1.contentTimes.first!) }
        decodeTokensPerSecond = decodeSeconds > 0 ? Double(clientCount * decodeEvents) / decodeSeconds : 0
        timeToFirstToken = SampleSummary(succeeded.compactMap(\.timeToFirstToken)).scaled(by: 1000)
        interTokenLatency = SampleSummary(succeeded.flatMap(\.interTokenGaps)).scaled(by: 1000)
        endToEndLatency = SampleSummary(succeeded.map(\.endToEndLatency)).scaled(by: 1000)
        promptTokens = SampleSummary(succeeded.compactMap(\.promptTokens).map(Double.init))
        cachedTokens = SampleSummary(succeeded.compactMap(\.cachedTokens).map(Double.init))
        background = nil
    }
}
