import Engine

/// Times one choice of a request for the latency histograms: time to first token from the
/// request's arrival, inter-token latency between text events (an event carrying k tokens after
/// Δ seconds counts as k intervals of Δ/k), and the end-to-end latency at the finish.
struct ChoiceTimer {
    let receivedAt: Double
    let metrics: ServerMetrics
    private var lastTextAt: Double? = nil

    init(receivedAt: Double, metrics: ServerMetrics) {
        self.receivedAt = receivedAt; self.metrics = metrics
    }

    mutating func text(tokenCount: Int, at now: Double = MonotonicClock.now()) {
        guard tokenCount > 0 else { return }
        if let last = lastTextAt {
            metrics.interTokenLatency.observe((now - last) / Double(tokenCount), count: tokenCount)
        } else {
            metrics.timeToFirstToken.observe(now - receivedAt)
        }
        lastTextAt = now
    }

    func finished(_ reason: FinishReason, usage: GenerationUsage, at now: Double = MonotonicClock.now()) {
        metrics.recordFinished(reason, usage: usage, endToEndSeconds: now - receivedAt)
    }
}
