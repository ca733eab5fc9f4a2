/// A set of Unicode scalar values one grammar element matches: ranges, possibly negated
/// (`[a-z0-9_]`, `[^"\\]`, or a single literal character).
struct CharacterClass: Hashable, Sendable {
    /// Sorted, non-overlapping, non-adjacent ranges of scalar values (before negation).
    let ranges: [ClosedRange<UInt32>]
    let negated: Bool
    /// Membership of the 128 ASCII values (negation applied): bit `c % 64` of word `c / 64`.
    private let asciiLow: UInt64
    private let asciiHigh: UInt64

    static let maximumScalar: UInt32 = 0x10FFFF

    init(ranges: [ClosedRange<UInt32>], negated: Bool) {
        var merged: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
        self.negated = negated
        var low: UInt64 = 0, high: UInt64 = 0
        for scalar in UInt32(0)..<128 where Self.rangesContain(merged, scalar) != negated {
            if scalar < 64 { low |= 1 << UInt64(scalar) } else { high |= 1 << UInt64(scalar - 64) }
        }
        asciiLow = low
        asciiHigh = high
    }

    /// The class of exactly one scalar value.
    init(scalar: UInt32) {
        self.init(ranges: [scalar...scalar], negated: false)
    }

    /// Any scalar value (GBNF `.`).
    static let any = CharacterClass(ranges: [], negated: true)

    @inline(__always)
    func contains(_ scalar: UInt32) -> Bool {
        if scalar < 64 { return asciiLow & (1 << UInt64(scalar)) != 0 }
        if scalar < 128 { return asciiHigh & (1 << UInt64(scalar - 64)) != 0 }
        return Self.rangesContain(ranges, scalar) != negated
    }

    /// Whether some member lies in `low...high` (used to prune a partial UTF-8 sequence: every
    /// character it can still become lies in such a range).
    func intersects(_ low: UInt32, _ high: UInt32) -> Bool {
        if !negated {
            return ranges.contains { $0.lowerBound <= high && low <= $0.upperBound }
        }
        // Negated: some value of low...high is outside every range unless one range covers it all
        // (ranges are merged, so a covering range is a single one).
        return !ranges.contains { $0.lowerBound <= low && high <= $0.upperBound }
    }

    private static func rangesContain(_ ranges: [ClosedRange<UInt32>], _ scalar: UInt32) -> Bool {
        var lower = 0, upper = ranges.count
        while lower < upper {
            let middle = (lower + upper) / 2
            if ranges[middle].upperBound < scalar { lower = middle + 1 } else { upper = middle }
        }
        return lower < ranges.count && ranges[lower].lowerBound <= scalar
    }
}
