import Engine
import Foundation

/// Per-request measurements the server makes (latencies, per-request token counts, outcomes),
/// rendered next to the engine's counters on `/metrics`.
public final class ServerMetrics: @unchecked Sendable {
    /// vLLM's `finished_reason` label values.
    public static let finishedReasons = ["stop", "length", "abort"]

    public let timeToFirstToken = Histogram(upperBounds: VLLMBuckets.timeToFirstToken)
    public let interTokenLatency = Histogram(upperBounds: VLLMBuckets.interTokenLatency)
    public let endToEndLatency = Histogram(upperBounds: VLLMBuckets.requestLatency)
    public let queueTime = Histogram(upperBounds: VLLMBuckets.requestLatency)
    public let prefillTime = Histogram(upperBounds: VLLMBuckets.requestLatency)
    public let decodeTime = Histogram(upperBounds: VLLMBuckets.requestLatency)
    public let requestPromptTokens: Histogram
    public let requestGenerationTokens: Histogram
    public let requestParamsN = Histogram(upperBounds: VLLMBuckets.requestParamsN)

    private let lock = NSLock()
    private var successCounts: [String: Int] = [:]
    private var httpResponseCounts: [Int: Int] = [:]

    /// `maxModelLength` bounds the 1-2-5 token-count buckets (vLLM uses the model's length).
    public init(maxModelLength: Int = 1_000_000) {
        requestPromptTokens = Histogram(upperBounds: Histogram.oneTwoFiveBounds(upTo: maxModelLength))
        requestGenerationTokens = Histogram(upperBounds: Histogram.oneTwoFiveBounds(upTo: maxModelLength))
    }

    /// A generation finished (one per choice). `reason` is the engine's.
    public func recordFinished(_ reason: FinishReason, usage: GenerationUsage, endToEndSeconds: Double) {
        let label: String
        switch reason {
        case .stop: label = "stop"
        case .length: label = "length"
        case .cancelled: label = "abort"
        }
        lock.withLock { successCounts[label, default: 0] += 1 }
        endToEndLatency.observe(endToEndSeconds)
        queueTime.observe(usage.queueMilliseconds / 1000)
        prefillTime.observe(usage.promptMilliseconds / 1000)
        decodeTime.observe(usage.generationMilliseconds / 1000)
        requestPromptTokens.observe(Double(usage.promptTokens))
        requestGenerationTokens.observe(Double(usage.completionTokens))
    }

    public func recordResponse(status: Int) {
        lock.withLock { httpResponseCounts[status, default: 0] += 1 }
    }

    public var successCountsByReason: [String: Int] { lock.withLock { successCounts } }
    public var responseCountsByStatus: [Int: Int] { lock.withLock { httpResponseCounts } }
}
