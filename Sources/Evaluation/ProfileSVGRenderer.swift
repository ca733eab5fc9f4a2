import Foundation

/// Draws an `AttentionProfile` as one SVG a person reads at a glance: a grid of small line
/// charts, one row per layer and one column per KV head. In each chart x is the query segment,
/// the blue line the head's entropy (nats, one scale for every chart), the dashed grey line the
/// largest possible entropy there (uniform over the visible blocks), orange bars the budget the
/// policy chose (one scale for every chart), grey columns segments that ran dense. Rigid heads
/// have a red frame and a pink background.
public struct ProfileSVGRenderer {
    public var cellWidth = 180.0
    public var cellHeight = 64.0
    public var horizontalGap = 12.0
    public var verticalGap = 8.0
    public var leftMargin = 56.0
    public var topMargin = 152.0
    public var rightMargin = 16.0
    public var bottomMargin = 16.0
    /// The picture is at least this wide (title and legend fit); with few KV heads the charts
    /// widen up to `maximumCellWidth` to use the room.
    public var minimumWidth = 820.0
    public var maximumCellWidth = 360.0

    public init() {}

    static let entropyColor = "#1f5fbf"
    static let boundColor = "#9a9a9a"
    static let budgetColor = "#f2a541"
    static let denseColor = "#e4e4e4"
    static let rigidFrame = "#d62728"
    static let rigidFill = "#fdecea"

    /// Top of the shared entropy scale: the largest entropy possible in the last segment or
    /// seen, rounded up to a whole nat.
    public static func entropyScale(_ profile: AttentionProfile) -> Double {
        var top = profile.maximumEntropy(segment: max(0, profile.segmentCount - 1)) ?? 0
        for head in profile.heads { for value in head.entropy { if let value, value.isFinite { top = max(top, value) } } }
        return max(1, top.rounded(.up))
    }

    /// Top of the shared budget scale (tokens).
    public static func budgetScale(_ profile: AttentionProfile) -> Int {
        max(1, profile.heads.flatMap { $0.budgetTokens.compactMap { $0 } }.max() ?? 1)
    }

    public func render(_ profile: AttentionProfile) -> String {
        var layout = self
        let columns = Double(max(1, profile.kvHeadCount))
        let fitting = (minimumWidth - leftMargin - rightMargin + horizontalGap) / columns - horizontalGap
        layout.cellWidth = max(cellWidth, min(maximumCellWidth, fitting))
        return layout.draw(profile)
    }

    private func draw(_ profile: AttentionProfile) -> String {
        let width = max(minimumWidth,
                        leftMargin + Double(profile.kvHeadCount) * (cellWidth + horizontalGap) - horizontalGap + rightMargin)
        let height = topMargin + Double(profile.layerCount) * (cellHeight + verticalGap) - verticalGap + bottomMargin
        let entropyTop = Self.entropyScale(profile)
        let budgetTop = Self.budgetScale(profile)
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(fmt(width))" height="\(fmt(height))" viewBox="0 0 \(fmt(width)) \(fmt(height))" font-family="Helvetica, Arial, sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>

        """
        svg += text("Attention entropy per layer and KV head", x: 12, y: 20, size: 14, weight: "bold")
        svg += text("\(profile.model) · \(profile.promptTokens) tokens in \(profile.segmentCount) segments of \(profile.segmentTokens)",
                    x: 12, y: 38, size: 11)
        svg += text("policy \(profile.policy)", x: 12, y: 70, size: 10, color: "#555555")
        let budgets = profile.heads.flatMap { $0.budgetTokens.compactMap { $0 } }
        let meanBudget = budgets.isEmpty ? 0 : Double(budgets.reduce(0, +)) / Double(budgets.count)
        svg += text("\(profile.rigidHeadCount) of \(profile.heads.count) heads rigid · mean budget \(Int(meanBudget.rounded())) tokens of past context per head and sparse segment",
                    x: 12, y: 54, size: 11)
        svg += legend(y: 90, entropyTop: entropyTop, budgetTop: budgetTop)
        for kvHead in 0..<profile.kvHeadCount {
            let x = leftMargin + Double(kvHead) * (cellWidth + horizontalGap)
            svg += text("KV head \(kvHead)", x: x + cellWidth / 2, y: topMargin - 8, size: 11, anchor: "middle", weight: "bold")
        }
        for layer in 0..<profile.layerCount {
            let y = topMargin + Double(layer) * (cellHeight + verticalGap)
            svg += text("L\(layer)", x: leftMargin - 8, y: y + cellHeight / 2 + 4, size: 11, anchor: "end", weight: "bold")
            for kvHead in 0..<profile.kvHeadCount {
                let x = leftMargin + Double(kvHead) * (cellWidth + horizontalGap)
                svg += cell(profile.head(layer: layer, kvHead: kvHead), profile: profile, x: x, y: y,
                            entropyTop: entropyTop, budgetTop: budgetTop)
            }
        }
        return svg + "</svg>\n"
    }

    private func legend(y: Double, entropyTop: Double, budgetTop: Int) -> String {
        var svg = ""
        var x = 12.0
        func item(_ swatch: String, _ label: String, width: Double) {
            svg += swatch.replacingOccurrences(of: "X0", with: fmt(x)).replacingOccurrences(of: "X1", with: fmt(x + 22))
            svg += text(label, x: x + 28, y: y + 4, size: 11)
            x += width
        }
        item("<line x1=\"X0\" y1=\"\(fmt(y))\" x2=\"X1\" y2=\"\(fmt(y))\" stroke=\"\(Self.entropyColor)\" stroke-width=\"2\"/>\n",
             "entropy (nats, 0–\(fmt(entropyTop)) in every chart)", width: 250)
        item("<line x1=\"X0\" y1=\"\(fmt(y))\" x2=\"X1\" y2=\"\(fmt(y))\" stroke=\"\(Self.boundColor)\" stroke-width=\"1.2\" stroke-dasharray=\"3 2\"/>\n",
             "largest possible (uniform over visible blocks)", width: 300)
        item("<rect x=\"X0\" y=\"\(fmt(y - 6))\" width=\"22\" height=\"12\" fill=\"\(Self.budgetColor)\" fill-opacity=\"0.55\"/>\n",
             "budget (tokens, 0–\(budgetTop))", width: 190)
        svg += "<rect x=\"12\" y=\"\(fmt(y + 14))\" width=\"22\" height=\"12\" fill=\"\(Self.denseColor)\"/>\n"
        svg += text("segment ran dense", x: 40, y: y + 24, size: 11)
        svg += "<rect x=\"170\" y=\"\(fmt(y + 14))\" width=\"22\" height=\"12\" fill=\"\(Self.rigidFill)\" stroke=\"\(Self.rigidFrame)\" stroke-width=\"2\"/>\n"
        svg += text("rigid head (near-zero entropy: fixed budget)", x: 198, y: y + 24, size: 11)
        svg += text("x: query segment, left to right", x: 470, y: y + 24, size: 11)
        return svg
    }

    private func cell(_ head: AttentionProfile.Head, profile: AttentionProfile, x: Double, y: Double,
                      entropyTop: Double, budgetTop: Int) -> String {
        let segments = max(1, profile.segmentCount)
        let slot = cellWidth / Double(segments)
        let plotTop = y + 3, plotBottom = y + cellHeight - 3
        func xCenter(_ segment: Int) -> Double { x + (Double(segment) + 0.5) * slot }
        func yEntropy(_ value: Double) -> Double { plotBottom - min(1, max(0, value / entropyTop)) * (plotBottom - plotTop) }

        var svg = "<g class=\"cell\(head.isRigid ? " rigid" : "")\" id=\"L\(head.layer)H\(head.kvHead)\">\n"
        svg += "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(cellWidth))\" height=\"\(fmt(cellHeight))\" fill=\"\(head.isRigid ? Self.rigidFill : "#fafafa")\" stroke=\"\(head.isRigid ? Self.rigidFrame : "#cccccc")\" stroke-width=\"\(head.isRigid ? 2 : 1)\"/>\n"
        for segment in 0..<min(segments, head.budgetTokens.count) {
            let left = x + Double(segment) * slot
            if let budget = head.budgetTokens[segment] {
                let barHeight = Double(budget) / Double(budgetTop) * (plotBottom - plotTop)
                svg += "<rect class=\"budget\" x=\"\(fmt(left + slot * 0.15))\" y=\"\(fmt(plotBottom - barHeight))\" width=\"\(fmt(slot * 0.7))\" height=\"\(fmt(barHeight))\" fill=\"\(Self.budgetColor)\" fill-opacity=\"0.55\"><title>segment \(segment): budget \(budget) tokens</title></rect>\n"
            } else {
                svg += "<rect class=\"dense\" x=\"\(fmt(left))\" y=\"\(fmt(y + 1))\" width=\"\(fmt(slot))\" height=\"\(fmt(cellHeight - 2))\" fill=\"\(Self.denseColor)\" fill-opacity=\"0.8\"/>\n"
            }
        }
        let bound = (1..<segments).compactMap { segment in profile.maximumEntropy(segment: segment).map { (segment, $0) } }
        if bound.count > 1 {
            svg += "<polyline class=\"bound\" fill=\"none\" stroke=\"\(Self.boundColor)\" stroke-width=\"1\" stroke-dasharray=\"3 2\" points=\"\(bound.map { "\(fmt(xCenter($0.0))),\(fmt(yEntropy($0.1)))" }.joined(separator: " "))\"/>\n"
        }
        // The entropy line, broken where a segment was not profiled.
        var run: [String] = []
        func flush() {
            if run.count == 1 {
                let parts = run[0].split(separator: ",")
                svg += "<circle class=\"entropy\" cx=\"\(parts[0])\" cy=\"\(parts[1])\" r=\"1.8\" fill=\"\(Self.entropyColor)\"/>\n"
            } else if run.count > 1 {
                svg += "<polyline class=\"entropy\" fill=\"none\" stroke=\"\(Self.entropyColor)\" stroke-width=\"1.5\" points=\"\(run.joined(separator: " "))\"/>\n"
            }
            run.removeAll()
        }
        for (segment, value) in head.entropy.enumerated() where segment < segments {
            if let value, value.isFinite { run.append("\(fmt(xCenter(segment))),\(fmt(yEntropy(value)))") } else { flush() }
        }
        flush()
        let profiled = head.entropy.compactMap { $0 }.filter(\.isFinite)
        let summary = head.isRigid ? "rigid" : profiled.isEmpty ? "dense" : String(format: "max %.2f", profiled.max()!)
        svg += text(summary, x: x + cellWidth - 4, y: y + 12, size: 9, anchor: "end",
                    color: head.isRigid ? Self.rigidFrame : "#555555", halo: true)
        svg += "<title>layer \(head.layer), KV head \(head.kvHead)\(head.isRigid ? ", rigid" : ""): entropy \(profiled.map { String(format: "%.3f", $0) }.joined(separator: ", "))</title>\n"
        return svg + "</g>\n"
    }

    /// A label; `halo` outlines it in white so it stays legible over the chart.
    private func text(_ content: String, x: Double, y: Double, size: Double, anchor: String = "start",
                      weight: String = "normal", color: String = "#222222", halo: Bool = false) -> String {
        let outline = halo ? " stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\"" : ""
        return "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" font-size=\"\(fmt(size))\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" fill=\"\(color)\"\(outline)>\(Self.escaped(content))</text>\n"
    }

    /// Text safe inside an XML element or attribute.
    public static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}

/// A coordinate with at most two decimals and no trailing zeros.
private func fmt(_ value: Double) -> String {
    let rounded = (value * 100).rounded() / 100
    return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
}
