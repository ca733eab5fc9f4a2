import Testing
@testable import Grammar

@Suite struct IntegerRangePatternTests {
    /// Every integer near and inside many ranges is accepted exactly when it is in range.
    @Test func matchesExactlyTheRange() throws {
        let bounds = [-1001, -100, -99, -10, -9, -1, 0, 1, 9, 10, 11, 19, 20, 99, 100, 101, 199, 999, 1000, 1234]
        for lower in bounds {
            for upper in bounds where upper >= lower && upper - lower < 1500 {
                let grammar = try Grammar(gbnf: "root ::= " + IntegerRangePattern.gbnf(lower, upper))
                for value in stride(from: lower - 12, through: upper + 12, by: max(1, (upper - lower) / 97)) {
                    #expect(accepts(grammar, String(value)) == (lower...upper).contains(value), "\(lower)...\(upper): \(value)")
                }
                #expect(accepts(grammar, String(upper)))
                #expect(accepts(grammar, String(lower)))
            }
        }
    }
}
