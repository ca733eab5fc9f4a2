import Evaluation
import Testing

@Suite struct NeedleTaskGeneratorTests {
    let generator = NeedleTaskGenerator(format: WordPromptFormat(), seed: 7)
    let prose = Haystack.realText(syntheticProse(sentences: 400))

    /// Token offset of the asked needle's number within the haystack, as a fraction of it.
    func measuredDepth(_ sample: NeedleSample) -> Double {
        let tokens = sample.tokens
        let start = tokens.firstIndex(of: WordPromptFormat.id("afterwards."))! + 1
        let end = tokens.firstIndex(of: WordPromptFormat.id("What"))!
        let needle = tokens.firstIndex(of: WordPromptFormat.id(sample.asked.number + "."))!
        #expect(start < needle && needle < end)
        // The needle sentence starts 7 words before its number.
        return Double(needle - 7 - start) / Double(end - start - 8 * sample.needles.count)
    }

    @Test(arguments: [0.1, 0.5, 0.9])
    func needleSitsAtTheRequestedDepth(depth: Double) throws {
        for haystack in [Haystack.noise, prose] {
            for task in [EvaluationTask.needleSingle, .needleMulti] {
                let sample = try generator.sample(task: task, haystack: haystack, context: 2000, depth: depth, index: 0)
                let measured = measuredDepth(sample)
                // Distractors before the asked needle shift it by at most their 8 words each.
                #expect(abs(measured - depth) < 0.02, "\(task) \(haystack.kind) depth \(depth): needle at \(measured)")
                #expect(abs(sample.placedDepth - depth) < 0.01)
            }
        }
    }

    @Test func promptFillsButNeverExceedsTheContext() throws {
        for context in [300, 1000, 4096] {
            for haystack in [Haystack.noise, prose] {
                let sample = try generator.sample(task: .needleSingle, haystack: haystack, context: context, depth: 0.5, index: 1)
                #expect(sample.tokens.count <= context)
                // One more sentence would not fit: the gap is below the longest unit (≤ 30 words here).
                #expect(sample.tokens.count > context - 30, "\(haystack.kind) \(context): \(sample.tokens.count) tokens")
            }
        }
    }

    @Test func samplesAreDeterministicFromTheSeed() throws {
        let again = NeedleTaskGenerator(format: WordPromptFormat(), seed: 7)
        let other = NeedleTaskGenerator(format: WordPromptFormat(), seed: 8)
        let a = try generator.sample(task: .needleMulti, haystack: prose, context: 1500, depth: 0.5, index: 3)
        let b = try again.sample(task: .needleMulti, haystack: prose, context: 1500, depth: 0.5, index: 3)
        let c = try other.sample(task: .needleMulti, haystack: prose, context: 1500, depth: 0.5, index: 3)
        let d = try generator.sample(task: .needleMulti, haystack: prose, context: 1500, depth: 0.5, index: 4)
        #expect(a.tokens == b.tokens)
        #expect(a.needles == b.needles)
        #expect(a.tokens != c.tokens)
        #expect(a.needles.map(\.number) != d.needles.map(\.number))
    }

    @Test func multiKeyPromptsHoldDistinctNeedlesAndAskForTheFirst() throws {
        let sample = try generator.sample(task: .needleMulti, haystack: .noise, context: 1200, depth: 0.9, index: 0)
        #expect(sample.needles.count == 4)
        #expect(Set(sample.needles.map(\.key)).count == 4)
        for needle in sample.needles {
            #expect(sample.userMessage.contains(needle.sentence.trimmingCharacters(in: .whitespaces)))
            #expect(needle.number.count == 7 && needle.number.allSatisfy(\.isNumber))
        }
        #expect(sample.userMessage.hasSuffix("What is the special magic number for \(sample.asked.key) mentioned in the provided text?"))
        #expect(sample.answerPrefix.contains(sample.asked.key))
        #expect(sample.expectedAnswer == sample.asked.number)
    }

    @Test func aContextTooShortForTheScaffoldingIsAnError() {
        #expect(throws: EvaluationError.self) {
            try generator.sample(task: .needleSingle, haystack: .noise, context: 20, depth: 0.5, index: 0)
        }
    }

    @Test func largestFittingFindsTheBoundary() throws {
        // 10 base tokens plus 3 per unit, with a bad estimate of 5 per unit.
        for budget in [10, 11, 40, 1000, 1003] {
            let fit = try HaystackFiller.largestFitting(budget: budget, baseTokens: 10, unitTokens: 5) { 10 + 3 * $0 }
            #expect(fit == (budget - 10) / 3)
        }
        // An overestimate (1 per unit) brackets downward.
        let fit = try HaystackFiller.largestFitting(budget: 1000, baseTokens: 10, unitTokens: 1) { 10 + 3 * $0 }
        #expect(fit == 330)
    }
}
