/// Digit patterns matching exactly the decimal integers of a range, as GBNF: the range is cut
/// into pieces whose members share a prefix and then run over full digit ranges
/// (e.g. 13…219 → `"1" [3-9]` | `[2-9] [0-9]` | `"1" [0-9] [0-9]` | `"2" "0" [0-9]` | `"2" "1" [0-9]`),
/// the method of the to-regex-range package. No leading zeros, no `-0`.
enum IntegerRangePattern {
    /// GBNF alternatives (parenthesised) for the integers in `lower...upper`, sign included.
    static func gbnf(_ lower: Int, _ upper: Int) -> String {
        precondition(lower <= upper)
        var alternatives: [String] = []
        if upper >= 0 {
            alternatives += nonNegative(max(lower, 0), upper)
        }
        if lower < 0 {
            // Negative numbers: "-" then a magnitude in max(1, -upper)…-lower.
            alternatives += nonNegative(max(1, upper < 0 ? -upper : 1), -lower).map { "\"-\" " + $0 }
        }
        return "(" + alternatives.joined(separator: " | ") + ")"
    }

    /// Patterns for `lower...upper`, both ≥ 0.
    static func nonNegative(_ lower: Int, _ upper: Int) -> [String] {
        var patterns: [String] = []
        var start = lower
        for stop in splitPoints(lower, upper) {
            patterns.append(pattern(start, stop))
            start = stop + 1
        }
        return patterns
    }

    /// The ends of the pieces of `lower...upper` (each piece: same length, a shared prefix,
    /// then digit ranges where all digits after the first varying one run 0…9).
    private static func splitPoints(_ lower: Int, _ upper: Int) -> [Int] {
        var stops: Set<Int> = [upper]
        var nines = 1
        var stop = replacingTrailingDigits(of: lower, count: nines, with: 9)
        while lower <= stop && stop <= upper {
            stops.insert(stop)
            nines += 1
            stop = replacingTrailingDigits(of: lower, count: nines, with: 9)
        }
        var zeros = 1
        stop = roundedDown(upper + 1, zeros: zeros) - 1
        while lower < stop && stop <= upper {
            stops.insert(stop)
            zeros += 1
            stop = roundedDown(upper + 1, zeros: zeros) - 1
        }
        return stops.sorted()
    }

    /// `value` with its last `count` digits set to `digit` (more digits than it has: a number of
    /// `count` digits).
    private static func replacingTrailingDigits(of value: Int, count: Int, with digit: Int) -> Int {
        let text = String(value)
        let kept = text.count > count ? String(text.dropLast(count)) : ""
        return Int(kept + String(repeating: String(digit), count: count)) ?? Int.max
    }

    private static func roundedDown(_ value: Int, zeros: Int) -> Int {
        var power = 1
        for _ in 0..<zeros {
            let (product, overflow) = power.multipliedReportingOverflow(by: 10)
            if overflow { return 0 }
            power = product
        }
        return value - value % power
    }

    /// One piece: `start` and `stop` have the same number of digits.
    private static func pattern(_ start: Int, _ stop: Int) -> String {
        if start == stop { return "\"\(start)\"" }
        let startDigits = Array(String(start)), stopDigits = Array(String(stop))
        var items: [String] = []
        var anyDigitCount = 0
        for (low, high) in zip(startDigits, stopDigits) {
            if low == high {
                items.append("\"\(low)\"")
            } else if low != "0" || high != "9" {
                items.append("[\(low)-\(high)]")
            } else {
                anyDigitCount += 1
            }
        }
        if anyDigitCount > 0 { items.append(anyDigitCount == 1 ? "[0-9]" : "[0-9]{\(anyDigitCount)}") }
        return "(" + items.joined(separator: " ") + ")"
    }
}
