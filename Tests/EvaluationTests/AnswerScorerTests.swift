import Evaluation
import Testing

@Suite struct AnswerScorerTests {
    @Test func theFirstNumberMustMatchExactly() {
        #expect(AnswerScorer.score(answer: " 4827193.", expected: "4827193") == 1)
        #expect(AnswerScorer.score(answer: ": **4,827,193**", expected: "4827193") == 1)
        #expect(AnswerScorer.score(answer: " 48271930", expected: "4827193") == 0)
        #expect(AnswerScorer.score(answer: " 827193", expected: "4827193") == 0)
        #expect(AnswerScorer.score(answer: " 1234567, not 4827193", expected: "4827193") == 0)
        #expect(AnswerScorer.score(answer: " not mentioned", expected: "4827193") == 0)
        #expect(AnswerScorer.score(answer: "", expected: "4827193") == 0)
    }

    @Test func numbersEndAtNonDigits() {
        #expect(AnswerScorer.firstNumber(in: "is 12, 34") == "12")
        #expect(AnswerScorer.firstNumber(in: "x1,234y") == "1234")
        #expect(AnswerScorer.firstNumber(in: "1.5") == "1")
        #expect(AnswerScorer.firstNumber(in: "none") == nil)
    }

    @Test func listedAnswersScoreTheFractionTheyContain() {
        let expected = ["4827193", "1234567", "QWERT"]
        #expect(AnswerScorer.fractionContained(answer: "4827193, 1234567 and qwert", expected: expected) == 1)
        #expect(AnswerScorer.fractionContained(answer: "1. 4827193\n2. 999", expected: expected) == 1.0 / 3)
        #expect(AnswerScorer.fractionContained(answer: "", expected: expected) == 0)
        #expect(AnswerScorer.fractionContained(answer: "anything", expected: []) == 0)
    }
}
