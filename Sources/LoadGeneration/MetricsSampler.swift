import Foundation

/// What a server's own metrics said while a level ran: how many requests it ran at once and how
/// much KV memory they used, sampled from its Prometheus `/metrics`.
public struct ServerLoad: Sendable, Equatable {
    /// Samples read (a server without the metrics gives none, and no `ServerLoad`).
    public var sampleCount = 0
    /// Requests in the running batch (vLLM's and our `num_requests_running`, llama.cpp's
    /// `requests_processing`): the largest sample and the mean over the samples.
    public var peakRunning = 0
    public var meanRunning = 0.0
    /// Of them, requests past their prompt (our `num_requests_decoding`): sessions whose KV is
    /// all resident at once, what a fixed KV budget limits. nil when not exported.
    public var peakDecoding: Int?
    public var meanDecoding: Double?
    /// KV memory in use, bytes (our `kv_cache_bytes_used`), largest sample; nil when not exported.
    public var peakKVBytes: Double?
    /// Growth of the preemption counter over the level; nil when not exported.
    public var preemptions: Int?

    public init() {}
}

/// Polls `GET /metrics` every `interval` seconds on a thread of its own between `start` and
/// `stop`, and keeps the peaks a capacity report needs.
public final class MetricsSampler: @unchecked Sendable {
    private let client: LoopbackHTTPClient
    private let interval: Double
    private let lock = NSLock()
    private var running = false
    private var load = ServerLoad()
    private var runningSum = 0
    private var decodingSum = 0
    private var firstPreemptions: Double?
    private var lastPreemptions: Double?
    private let finished = DispatchGroup()

    public init(client: LoopbackHTTPClient, interval: Double = 0.25) {
        self.client = LoopbackHTTPClient(endpoint: client.endpoint, timeout: min(client.timeout, 10), apiKey: client.apiKey)
        self.interval = interval
    }

    public func start() {
        lock.withLock { running = true }
        finished.enter()
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                sample()
                Thread.sleep(forTimeInterval: interval)
            }
            sample()
            finished.leave()
        }
        thread.name = "loadtest-metrics"
        thread.start()
    }

    /// Stops polling; the load seen, or nil when no sample carried a running-requests gauge.
    public func stop() -> ServerLoad? {
        lock.withLock { running = false }
        finished.wait()
        return lock.withLock {
            guard load.sampleCount > 0 else { return nil }
            var result = load
            result.meanRunning = Double(runningSum) / Double(load.sampleCount)
            if result.peakDecoding != nil { result.meanDecoding = Double(decodingSum) / Double(load.sampleCount) }
            if let first = firstPreemptions, let last = lastPreemptions { result.preemptions = Int(last - first) }
            return result
        }
    }

    private func sample() {
        guard let reply = try? client.send(method: "GET", path: "/metrics"), reply.head.status == 200 else { return }
        let values = Self.parse(String(decoding: reply.body, as: UTF8.self))
        guard let runningNow = values["num_requests_running"] ?? values["requests_processing"] else { return }
        lock.withLock {
            load.sampleCount += 1
            runningSum += Int(runningNow)
            load.peakRunning = max(load.peakRunning, Int(runningNow))
            if let decoding = values["num_requests_decoding"] {
                decodingSum += Int(decoding)
                load.peakDecoding = max(load.peakDecoding ?? 0, Int(decoding))
            }
            if let bytes = values["kv_cache_bytes_used"] { load.peakKVBytes = max(load.peakKVBytes ?? 0, bytes) }
            if let preemptions = values["num_preemptions_total"] {
                if firstPreemptions == nil { firstPreemptions = preemptions }
                lastPreemptions = preemptions
            }
        }
    }

    /// Samples of a Prometheus text exposition by metric name without its namespace
    /// (`entropyinfer:num_requests_running` and `llamacpp:requests_processing` both count), the
    /// series of one name (label sets: engines, models, reasons) summed.
    public static func parse(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            let fullName = series[..<(series.firstIndex(of: "{") ?? series.endIndex)]
            let name = String(fullName.split(separator: ":").last ?? fullName)
            values[name, default: 0] += value
        }
        return values
    }
}
