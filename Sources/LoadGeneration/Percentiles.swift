/// Percentiles by the nearest-rank method: the p-th percentile of n sorted samples is the
/// sample of rank ⌈p/100 · n⌉ (1-based; rank 1 for p = 0). It is always an observed value, and
/// with few samples high percentiles are the maximum (p99 of 50 samples is the largest).
public enum Percentiles {
    /// The nearest-rank percentile of `sorted` (ascending), nil when there are no samples.
    public static func nearestRank(_ percentile: Double, of sorted: [Double]) -> Double? {
        precondition((0...100).contains(percentile), "a percentile is between 0 and 100")
        guard !sorted.isEmpty else { return nil }
        // p · n first: exact for integer p, so an exact rank never rounds up past itself.
        let rank = Int((percentile * Double(sorted.count) / 100).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// Count, mean and the p50/p90/p99 nearest-rank percentiles of a set of samples.
public struct SampleSummary: Sendable, Equatable {
    public var count: Int
    public var mean: Double?
    public var minimum: Double?
    public var p50: Double?
    public var p90: Double?
    public var p99: Double?
    public var maximum: Double?

    public init(_ samples: [Double]) {
        let sorted = samples.sorted()
        count = sorted.count
        mean = sorted.isEmpty ? nil : sorted.reduce(0, +) / Double(sorted.count)
        minimum = sorted.first
        p50 = Percentiles.nearestRank(50, of: sorted)
        p90 = Percentiles.nearestRank(90, of: sorted)
        p99 = Percentiles.nearestRank(99, of: sorted)
        maximum = sorted.last
    }

    /// The same summary with every value multiplied by `factor` (seconds to milliseconds).
    public func scaled(by factor: Double) -> SampleSummary {
        var copy = self
        copy.mean = mean.map { $0 * factor }
        copy.minimum = minimum.map { $0 * factor }
        copy.p50 = p50.map { $0 * factor }
        copy.p90 = p90.map { $0 * factor }
        copy.p99 = p99.map { $0 * factor }
        copy.maximum = maximum.map { $0 * factor }
        return copy
    }
}
