import Foundation

/// Sizes in bytes as people write them in configuration: `2GiB`, `512M`, `1.5G`, `65536`.
///
/// Units are binary (K = 1024, like `docker --memory` and Kubernetes' `Ki`/`Mi`/`Gi`), with or
/// without `i` and `B`, in any case; a bare number is bytes.
public enum ByteSize {
    private static let units: [(suffix: Character, bytes: Int)] = [("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)]

    /// Bytes for `text`, or nil when it is not a size (negative, unknown unit, overflow).
    public static func parse(_ text: String) -> Int? {
        var body = Substring(text.trimmingCharacters(in: .whitespaces)).uppercased()[...]
        if body.hasSuffix("B") { body = body.dropLast() }
        if body.hasSuffix("I") { body = body.dropLast() }
        var multiplier = 1
        if let last = body.last, let unit = units.first(where: { $0.suffix == last }) {
            multiplier = unit.bytes
            body = body.dropLast()
        }
        let number = body.trimmingCharacters(in: .whitespaces)
        if multiplier == 1 { return Int(number).flatMap { $0 >= 0 ? $0 : nil } }
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let bytes = (value * Double(multiplier)).rounded()
        return bytes < 0x1p62 ? Int(bytes) : nil
    }

    /// `2GiB`, `512MiB`, `1.5KiB`, `100 B`: the largest unit that keeps at most one decimal.
    public static func text(_ bytes: Int) -> String {
        for unit in units.reversed() where bytes >= unit.bytes {
            let value = Double(bytes) / Double(unit.bytes)
            let rounded = (value * 10).rounded() / 10
            if rounded * Double(unit.bytes) == Double(bytes) || value >= 100 {
                let shown = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
                return "\(shown)\(unit.suffix)iB"
            }
        }
        return "\(bytes) B"
    }
}
