/// What a load test does: the concurrency levels, how much load per level, the shape of every
/// request, and the optional head-of-line (`backgroundPromptTokens`) and multi-turn (`turnCount`)
/// measurements.
public struct LoadTestPlan: Sendable {
    /// Concurrent clients of each level, in the order run.
    public var clientCounts: [Int]
    /// Requests (conversations, with turns) per level in total, shared out between the clients;
    /// nil with no `durationSeconds` means 4 per client.
    public var requestsPerLevel: Int?
    /// Instead of a request count: clients keep starting requests for this many seconds.
    public var durationSeconds: Double?
    /// About this many tokens of synthetic text in each user message.
    public var promptTokens = 128
    /// Tokens at the start of every prompt shared by all requests (prefix-cache runs).
    public var sharedPrefixTokens = 0
    /// `max_tokens` with `ignore_eos`: every request generates exactly this many tokens.
    public var maxTokens = 64
    /// Requests sent one at a time to each server before the first level, not measured.
    public var warmupRequests = 2
    public var seed: UInt64 = 0
    /// Turns per conversation: turn 1 sends the prompt, each next turn resends the history,
    /// the answer and a new short question.
    public var turnCount = 1
    /// When set, each level runs twice: unloaded ("idle"), then with one long streaming request
    /// of this many prompt tokens started first ("background"), to measure head-of-line blocking.
    public var backgroundPromptTokens: Int?
    /// Seconds between starting the background request and starting the clients.
    public var backgroundLeadSeconds = 0.5
    /// Seconds any socket operation may wait.
    public var timeoutSeconds = 600.0

    public init(clientCounts: [Int]) { self.clientCounts = clientCounts }

    /// The request budget of a level with `clientCount` clients (nil: run for `durationSeconds`).
    public func requestLimit(clientCount: Int) -> Int? {
        if let requestsPerLevel { return requestsPerLevel }
        return durationSeconds == nil ? 4 * clientCount : nil
    }

    /// Every problem with the plan, as messages naming the option.
    public func problems() -> [String] {
        var problems: [String] = []
        if clientCounts.isEmpty || clientCounts.contains(where: { $0 < 1 || $0 > 1024 }) {
            problems.append("--clients needs concurrency levels between 1 and 1024, e.g. 1,4,8,16")
        }
        if let requestsPerLevel, requestsPerLevel < 1 { problems.append("--requests must be at least 1") }
        if let durationSeconds, !(durationSeconds > 0) { problems.append("--duration must be a positive number of seconds") }
        if requestsPerLevel != nil && durationSeconds != nil { problems.append("pass either --requests or --duration, not both") }
        if promptTokens < 1 { problems.append("--prompt-tokens must be at least 1") }
        if sharedPrefixTokens < 0 || sharedPrefixTokens > promptTokens {
            problems.append("--shared-prefix must be between 0 and --prompt-tokens (\(promptTokens))")
        }
        if maxTokens < 1 { problems.append("--max-tokens must be at least 1") }
        if warmupRequests < 0 { problems.append("--warmup must not be negative") }
        if turnCount < 1 || turnCount > 64 { problems.append("--turns must be between 1 and 64") }
        if let backgroundPromptTokens, backgroundPromptTokens < 1 { problems.append("--background-prompt-tokens must be at least 1") }
        if backgroundPromptTokens != nil && turnCount > 1 { problems.append("--background-prompt-tokens and --turns are separate runs") }
        if !(timeoutSeconds > 0) { problems.append("--timeout must be a positive number of seconds") }
        return problems
    }
}

/// A server under test: a name for the report, its client, and the model name to send.
public struct LoadTarget: Sendable {
    public var name: String
    public var client: LoopbackHTTPClient
    /// nil: the first id of the server's `/v1/models`, read by `LoadTestRunner.prepare`.
    public var model: String?

    public init(name: String, client: LoopbackHTTPClient, model: String? = nil) {
        self.name = name; self.client = client; self.model = model
    }
}
