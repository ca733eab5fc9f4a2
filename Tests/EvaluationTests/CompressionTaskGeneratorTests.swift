import Evaluation
import Testing

@Suite struct CompressionTaskGeneratorTests {
    let generator = CompressionTaskGenerator(format: WordPromptFormat(), seed: 5)
    let prose = Haystack.realText(syntheticProse(sentences: 400))

    @Test(arguments: [CompressionTask.multiValue, .multiQuery, .variableTracking, .secondTurn])
    func promptsHoldEveryExpectedItemAndLeaveRoomForTheAnswer(task: CompressionTask) throws {
        for haystack in [Haystack.noise, prose] {
            let sample = try generator.sample(task: task, haystack: haystack, context: 3000, depth: 0.3, index: 0)
            var room = 3000 - task.answerTokens
            if task == .secondTurn { room -= CompressionTask.summaryTokens + CompressionTask.questionTurnTokens }
            #expect(sample.tokens.count <= room)
            #expect(sample.tokens.count > room - 40, "\(task) \(haystack.kind): \(sample.tokens.count) of \(room)")
            let message = sample.turns[0].content
            for item in sample.expected { #expect(message.contains(item), "\(task): \(item) missing") }
            #expect(sample.expected.count == (task == .secondTurn ? 1 : task == .variableTracking ? 5 : 4))
            #expect(Set(sample.expected).count == sample.expected.count)
            // A full answer scores 1, an empty one 0.
            #expect(sample.score(answer: " " + sample.expected.joined(separator: ", ")) == 1)
            #expect(sample.score(answer: "") == 0)
        }
    }

    @Test func variableChainsAppearInOrderFromTheirDepth() throws {
        let sample = try generator.sample(task: .variableTracking, haystack: prose, context: 4000, depth: 0.4, index: 2)
        let message = sample.turns[0].content
        let names = sample.expected
        var previous = message.startIndex
        for (position, name) in names.enumerated() {
            let sentence = position == 0 ? "VAR \(name) = " : "VAR \(name) = VAR \(names[position - 1])."
            let range = try #require(message.range(of: sentence))
            #expect(range.lowerBound >= previous)
            previous = range.upperBound
        }
        // The first assignment sits near 40 % of the document, the rest after it.
        let first = message.range(of: "VAR \(names[0]) = ")!.lowerBound
        let fraction = Double(message.distance(from: message.startIndex, to: first)) / Double(message.count)
        #expect(abs(fraction - 0.4) < 0.05, "first assignment at \(fraction)")
        #expect(message.hasSuffix("in the text above."))
        #expect(sample.answerPrefix.contains("5 variables"))
    }

    @Test func secondTurnContinuesTheFirstTurnAndFindsWhereTheQuestionStarts() throws {
        let sample = try generator.sample(task: .secondTurn, haystack: .noise, context: 1500, depth: 0.5, index: 0)
        #expect(sample.answerPrefix.isEmpty)
        #expect(sample.turns[0].content.hasSuffix("summarize the text above in two sentences."))
        let summary = "The text repeats colours of grass and sky."
        let (tokens, questionStart) = try generator.secondTurnTokens(sample, summary: summary)
        #expect(questionStart == WordPromptFormat.words(summary).count)
        #expect(Array(tokens.prefix(questionStart)) == WordPromptFormat.words(summary).map(WordPromptFormat.id))
        let question = try #require(sample.question)
        let prefix = try #require(sample.questionAnswerPrefix)
        #expect(question.contains("special magic number") && prefix.hasSuffix("is"))
        // The continuation ends with the question turn and the answer prefix.
        let tail = WordPromptFormat.words(question + " <|end|> <|assistant|> " + prefix).map(WordPromptFormat.id)
        #expect(Array(tokens.suffix(tail.count)) == tail)
    }

    @Test func samplesAreDeterministicFromTheSeed() throws {
        let again = CompressionTaskGenerator(format: WordPromptFormat(), seed: 5)
        let other = CompressionTaskGenerator(format: WordPromptFormat(), seed: 6)
        for task in [CompressionTask.multiValue, .variableTracking] {
            let a = try generator.sample(task: task, haystack: prose, context: 1500, depth: 0.5, index: 1)
            let b = try again.sample(task: task, haystack: prose, context: 1500, depth: 0.5, index: 1)
            let c = try other.sample(task: task, haystack: prose, context: 1500, depth: 0.5, index: 1)
            #expect(a.tokens == b.tokens && a.expected == b.expected)
            #expect(a.expected != c.expected)
        }
    }

    /// Each expected string's runs in the prompt, under any of its encodings (first that matches
    /// at a start wins), never overlapping within a string.
    @Test func expectedSpansFindEveryEncodingOfEveryString() {
        let tokens: [Int32] = [1, 5, 6, 2, 9, 7, 5, 6, 7]
        #expect(CompressionSample.spans(of: [[[5, 6]], [[7], [9, 7]]], in: tokens) == [1..<3, 4..<6, 6..<8, 8..<9])
        #expect(CompressionSample.spans(of: [[[4]]], in: tokens) == [])
        #expect(CompressionSample.spans(of: [[[7, 1]]], in: tokens) == [], "a match may not run past the end")
    }
}
