import JSON

/// Plain-text tables of the evaluation reports: columns padded to their widest cell (the last
/// column unpadded), two spaces apart.
enum TextTable {
    static func render(_ lines: [[String]]) -> String {
        var widths: [Int] = []
        for line in lines {
            for (index, cell) in line.enumerated() {
                if index < widths.count { widths[index] = max(widths[index], cell.count) } else { widths.append(cell.count) }
            }
        }
        return lines.map { line in
            line.enumerated().map { index, cell in
                index == line.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// The depths of a needle plan, as "10%, 50%, 90%".
    static func percentages(_ fractions: [Double]) -> String {
        fractions.map { String(format: "%.0f%%", $0 * 100) }.joined(separator: ", ")
    }
}

/// A JSON number, or null for NaN and infinities (JSON has no such numbers).
func jsonNumber(_ value: Double) -> JSONValue { value.isFinite ? .double(value) : .null }
