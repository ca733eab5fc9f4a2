/// Builds a long document from a haystack with sentences inserted at chosen depths, grown to
/// the largest number of haystack units whose prompt still fits a token budget. Shared by every
/// generated long-context task (needles, variable chains, second-turn questions).
public enum HaystackFiller {
    /// A sentence to hide and where: a fraction of the haystack (0 = before the first unit,
    /// 1 = after the last).
    public struct Insertion: Sendable, Equatable {
        public var sentence: String
        public var depth: Double

        public init(sentence: String, depth: Double) {
            precondition((0...1).contains(depth), "depth is a fraction")
            self.sentence = sentence
            self.depth = depth
        }
    }

    /// A filled document: its text, the haystack units it holds, and each insertion's unit index
    /// (units before it), in the order of `insertions`.
    public struct Document: Sendable {
        public var text: String
        public var unitCount: Int
        public var unitIndices: [Int]
        /// The prompt built from `text`.
        public var tokens: [Int32]
    }

    /// `unitCount` units of `haystack` from unit `start`, each insertion placed before the unit at
    /// round(depth × unitCount) (insertions at the same unit keep their order); trailing
    /// whitespace removed.
    public static func text(_ haystack: Haystack, start: Int, unitCount: Int,
                            insertions: [Insertion]) -> (text: String, unitIndices: [Int]) {
        let indices = insertions.map { Int(($0.depth * Double(unitCount)).rounded()) }
        let units = haystack.units(from: start, count: unitCount)
        var text = ""
        for unitIndex in 0...unitCount {
            for (insertion, index) in zip(insertions, indices) where index == unitIndex { text += insertion.sentence }
            if unitIndex < unitCount { text += units[units.startIndex + unitIndex] }
        }
        while text.last?.isWhitespace == true { text.removeLast() }
        return (text, indices)
    }

    /// The document with the most haystack units whose prompt (`prompt(text)`) has at most
    /// `context` tokens. Throws when even the bare prompt (no haystack) does not fit.
    public static func fill(_ haystack: Haystack, start: Int, insertions: [Insertion], context: Int,
                            prompt: (String) throws -> [Int32]) throws -> Document {
        func build(_ unitCount: Int) throws -> Document {
            let (text, indices) = Self.text(haystack, start: start, unitCount: unitCount, insertions: insertions)
            return Document(text: text, unitCount: unitCount, unitIndices: indices, tokens: try prompt(text))
        }
        let bare = try build(0)
        guard bare.tokens.count <= context else {
            throw EvaluationError.contextTooShort(requested: context, minimum: bare.tokens.count)
        }
        // Tokens per unit, measured on 64 units from `start`.
        let probeCount = 64
        let probe = try prompt(haystack.units(from: start, count: probeCount).joined()).count
        let unitTokens = max(1, Double(probe - (try prompt("")).count) / Double(probeCount))
        let unitCount = try largestFitting(budget: context, baseTokens: bare.tokens.count, unitTokens: unitTokens) {
            try build($0).tokens.count
        }
        return try build(unitCount)
    }

    /// The largest unit count n whose prompt has at most `budget` tokens (`count(0)` fits):
    /// starts from the estimate, brackets with growing steps, then bisects. About 8 prompt
    /// tokenizations instead of one per unit.
    public static func largestFitting(budget: Int, baseTokens: Int, unitTokens: Double,
                                      count: (Int) throws -> Int) throws -> Int {
        let estimate = max(0, Int(Double(budget - baseTokens) / unitTokens))
        var step = max(4, estimate / 32)
        var fits = 0, overflows: Int
        if try count(estimate) <= budget {
            fits = estimate
            overflows = estimate + step
            while try count(overflows) <= budget {
                fits = overflows
                step *= 2
                overflows += step
            }
        } else {
            overflows = estimate
            var probe = estimate
            while probe > 0 {
                probe = max(0, probe - step)
                step *= 2
                if try count(probe) <= budget { fits = probe; break }
                overflows = probe
            }
        }
        while overflows - fits > 1 {
            let middle = (fits + overflows) / 2
            if try count(middle) <= budget { fits = middle } else { overflows = middle }
        }
        return fits
    }
}
