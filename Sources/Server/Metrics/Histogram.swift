import Foundation

/// A Prometheus histogram: per-bucket counts (upper bounds inclusive), sum and count.
/// Thread-safe; observations are O(log buckets).
public final class Histogram: @unchecked Sendable {
    public let upperBounds: [Double]
    private let lock = NSLock()
    private var bucketCounts: [Int]
    private var total: Double = 0
    private var observations: Int = 0

    public init(upperBounds: [Double]) {
        precondition(zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 }, "bucket bounds must increase")
        self.upperBounds = upperBounds
        self.bucketCounts = Array(repeating: 0, count: upperBounds.count + 1)
    }

    public func observe(_ value: Double, count: Int = 1) {
        guard count > 0, value.isFinite else { return }
        var low = 0, high = upperBounds.count
        while low < high {
            let middle = (low + high) / 2
            if value <= upperBounds[middle] { high = middle } else { low = middle + 1 }
        }
        lock.withLock {
            bucketCounts[low] += count
            total += value * Double(count)
            observations += count
        }
    }

    public struct Snapshot: Sendable {
        /// Cumulative counts per upper bound, then the +Inf bucket (equal to `count`).
        public var cumulativeCounts: [Int]
        public var sum: Double
        public var count: Int
    }

    public func snapshot() -> Snapshot {
        lock.withLock {
            var running = 0
            let cumulative = bucketCounts.map { running += $0; return running }
            return Snapshot(cumulativeCounts: cumulative, sum: total, count: observations)
        }
    }

    /// vLLM's 1-2-5 series up to `maximum` (`build_1_2_5_buckets`).
    public static func oneTwoFiveBounds(upTo maximum: Int) -> [Double] {
        var bounds: [Double] = []
        var scale = 1
        while true {
            for mantissa in [1, 2, 5] {
                let value = mantissa * scale
                if value > maximum { return bounds }
                bounds.append(Double(value))
            }
            scale *= 10
        }
    }
}

/// vLLM's bucket bounds, so dashboards and alerts port with a prefix change.
public enum VLLMBuckets {
    public static let timeToFirstToken: [Double] = [
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
        160.0, 640.0, 2560.0,
    ]
    public static let interTokenLatency: [Double] = [
        0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
    ]
    public static let requestLatency: [Double] = [
        0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0,
        1920.0, 7680.0,
    ]
    public static let requestParamsN: [Double] = [1, 2, 5, 10, 20]
}
