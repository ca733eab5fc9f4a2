/// Builds RULER-style needle-in-a-haystack prompts (Hsieh et al., 2024, "RULER: What's the Real
/// Context Size of Your Long-Context Language Models?", task `niah`): needles "The special magic
/// number for <key> is <7 digits>." hidden in a haystack, the asked needle at the requested
/// depth, distractor needles (other keys) at random depths, the haystack grown to the largest
/// sentence count whose templated prompt fits the requested context.
///
/// Everything random comes from `seed` and the sample's coordinates (task, haystack, context,
/// depth, index), so a sample is the same whatever else the run contains.
public struct NeedleTaskGenerator: Sendable {
    public let format: any PromptFormat
    public let seed: UInt64

    static let instruction = "Some special magic numbers are hidden within the following text. Make sure to memorize it. I will quiz you about the numbers afterwards."

    public init(format: any PromptFormat, seed: UInt64) {
        self.format = format
        self.seed = seed
    }

    /// The sample at (`task`, `haystack`, `context`, `depth`, `index`).
    public func sample(task: EvaluationTask, haystack: Haystack, context: Int, depth: Double,
                       index: Int) throws -> NeedleSample {
        precondition(task.isNeedle, "\(task.rawValue) is not a needle task")
        precondition((0...1).contains(depth), "depth is a fraction")
        var random = TaskRandom(seed: seed, stream: [
            UInt64(EvaluationTask.allCases.firstIndex(of: task)!), UInt64(Haystack.Kind.allCases.firstIndex(of: haystack.kind)!),
            UInt64(context), UInt64((depth * 1000).rounded()), UInt64(index),
        ])
        let keys = NeedleKeys.keys(task.needleCount, random: &random)
        var needles: [Needle] = []
        for (position, key) in keys.enumerated() {
            let needleDepth = position == 0 ? depth : random.unit()
            needles.append(Needle(key: key, number: NeedleKeys.number(random: &random), depth: needleDepth, unitIndex: 0))
        }
        let start = random.integer(below: haystack.units.count)
        let asked = needles[0]
        let answerPrefix = "The special magic number for \(asked.key) mentioned in the provided text is"

        func build(_ unitCount: Int) throws -> (message: String, needles: [Needle], tokens: [Int32]) {
            var placed = needles
            for index in placed.indices {
                placed[index].unitIndex = Int((placed[index].depth * Double(unitCount)).rounded())
            }
            let units = haystack.units(from: start, count: unitCount)
            var text = ""
            for unitIndex in 0...unitCount {
                for needle in placed where needle.unitIndex == unitIndex { text += needle.sentence }
                if unitIndex < unitCount { text += units[units.startIndex + unitIndex] }
            }
            while text.last?.isWhitespace == true { text.removeLast() }
            let message = Self.instruction + "\n" + text + "\n"
                + "What is the special magic number for \(asked.key) mentioned in the provided text?"
            return (message, placed, try format.tokens(userMessage: message, answerPrefix: answerPrefix))
        }

        let bare = try build(0)
        guard bare.tokens.count <= context else {
            throw EvaluationError.contextTooShort(requested: context, minimum: bare.tokens.count)
        }
        let unitCount = try Self.largestFitting(budget: context, baseTokens: bare.tokens.count,
                                                unitTokens: Self.meanUnitTokens(haystack, start: start, format: format)) {
            try build($0).tokens.count
        }
        let built = try build(unitCount)
        return NeedleSample(task: task, haystack: haystack.kind, context: context, depth: depth, sampleIndex: index,
                            needles: built.needles, userMessage: built.message, answerPrefix: answerPrefix,
                            tokens: built.tokens, haystackUnitCount: unitCount)
    }

    /// Tokens per haystack unit, measured on 64 units from `start`.
    static func meanUnitTokens(_ haystack: Haystack, start: Int, format: any PromptFormat) throws -> Double {
        let probeCount = 64
        let probe = haystack.units(from: start, count: probeCount).joined()
        let with = try format.tokens(userMessage: probe, answerPrefix: "").count
        let without = try format.tokens(userMessage: "", answerPrefix: "").count
        return max(1, Double(with - without) / Double(probeCount))
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
