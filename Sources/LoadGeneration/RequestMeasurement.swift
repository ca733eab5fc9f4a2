/// What one streamed request measured. Times are monotonic seconds (`MonotonicTime`).
public struct RequestMeasurement: Sendable {
    /// Just before connecting.
    public var startTime: Double
    /// When `data: [DONE]` (or the failure) arrived.
    public var endTime: Double
    /// Arrival time of every event that carried generated text, in order: the first is the
    /// time to first token; the gaps between them are the inter-token latencies.
    public var contentTimes: [Double] = []
    /// The server's `usage` counts (`stream_options.include_usage`), nil if it sent none.
    public var completionTokens: Int?
    public var promptTokens: Int?
    /// `usage.prompt_tokens_details.cached_tokens`: prompt tokens the server reused.
    public var cachedTokens: Int?
    /// The generated text (kept only when the caller needs it, e.g. for a next turn).
    public var content = ""
    /// SSE comment lines (keep-alives) received.
    public var keepAliveCount = 0
    public var failure: RequestFailure?

    public init(startTime: Double) {
        self.startTime = startTime
        self.endTime = startTime
    }

    public var succeeded: Bool { failure == nil }

    /// Seconds from the start to the first generated text.
    public var timeToFirstToken: Double? { contentTimes.first.map { $0 - startTime } }

    /// Seconds from the start to the end of the stream.
    public var endToEndLatency: Double { endTime - startTime }

    /// Gaps between consecutive text-carrying events, in seconds.
    public var interTokenGaps: [Double] {
        guard contentTimes.count > 1 else { return [] }
        return (1..<contentTimes.count).map { contentTimes[$0] - contentTimes[$0 - 1] }
    }

    /// Generated tokens: the server's count when it sent usage, else the text-carrying events.
    public var generatedTokens: Int { completionTokens ?? contentTimes.count }
}
