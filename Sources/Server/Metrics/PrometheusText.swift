/// Builds Prometheus text exposition (format 0.0.4): `# HELP`, `# TYPE`, then samples with
/// the same label set on every sample.
public struct PrometheusText {
    public private(set) var text = ""
    private let labels: [(String, String)]

    public init(labels: [(String, String)]) { self.labels = labels }

    public mutating func gauge(_ name: String, _ help: String, _ value: Double) {
        header(name, help, "gauge")
        sample(name, [], value)
    }

    /// `name` ends in `_total`.
    public mutating func counter(_ name: String, _ help: String, _ value: Double) {
        header(name, help, "counter")
        sample(name, [], value)
    }

    /// A counter with one extra label, one sample per value of that label.
    public mutating func counter(_ name: String, _ help: String, label: String, _ values: [(String, Double)]) {
        header(name, help, "counter")
        for (labelValue, value) in values { sample(name, [(label, labelValue)], value) }
    }

    public mutating func histogram(_ name: String, _ help: String, _ histogram: Histogram) {
        header(name, help, "histogram")
        let snapshot = histogram.snapshot()
        for (bound, count) in zip(histogram.upperBounds, snapshot.cumulativeCounts) {
            sample(name + "_bucket", [("le", Self.number(bound))], Double(count))
        }
        sample(name + "_bucket", [("le", "+Inf")], Double(snapshot.count))
        sample(name + "_sum", [], snapshot.sum)
        sample(name + "_count", [], Double(snapshot.count))
    }

    /// A histogram from per-bucket counts (upper bounds inclusive, then the overflow bucket).
    public mutating func histogram(_ name: String, _ help: String, bounds: [Int], bucketCounts: [Int], sum: Double) {
        header(name, help, "histogram")
        var running = 0
        for (bound, count) in zip(bounds, bucketCounts) {
            running += count
            sample(name + "_bucket", [("le", Self.number(Double(bound)))], Double(running))
        }
        let total = bucketCounts.reduce(0, +)
        sample(name + "_bucket", [("le", "+Inf")], Double(total))
        sample(name + "_sum", [], sum)
        sample(name + "_count", [], Double(total))
    }

    private mutating func header(_ name: String, _ help: String, _ type: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private mutating func sample(_ name: String, _ extra: [(String, String)], _ value: Double) {
        let all = labels + extra
        text += name
        if !all.isEmpty {
            text += "{" + all.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " " + Self.number(value) + "\n"
    }

    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value.rounded() == value, abs(value) < 1e15 { return String(Int(value)) }
        return value.description
    }

    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
