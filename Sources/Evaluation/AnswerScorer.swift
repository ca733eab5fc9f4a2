/// Scores a needle answer: the first number in the model's greedy answer must be the asked
/// needle's number exactly. Digit-group commas inside that number ("1,234,567") are removed
/// first, so formatting does not count as an error; a longer or shorter digit run, a different
/// number named first, or no number at all is wrong.
public enum AnswerScorer {
    /// The first run of digits in `text` (commas between digits join the run), or nil.
    public static func firstNumber(in text: String) -> String? {
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            guard characters[index].isASCIIDigit else { index += 1; continue }
            var digits = ""
            while index < characters.count {
                let character = characters[index]
                if character.isASCIIDigit {
                    digits.append(character)
                } else if character == ",", index + 1 < characters.count, characters[index + 1].isASCIIDigit {
                    // a digit-group separator: skip it
                } else {
                    break
                }
                index += 1
            }
            return digits
        }
        return nil
    }

    /// 1 when the answer's first number is `expected`, else 0.
    public static func score(answer: String, expected: String) -> Double {
        firstNumber(in: answer) == expected ? 1 : 0
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension AnswerScorer {
    /// The fraction of `expected` strings found in `answer`, ignoring case (RULER's
    /// `string_match_all`).
    public static func fractionContained(answer: String, expected: [String]) -> Double {
        guard !expected.isEmpty else { return 0 }
        let text = answer.lowercased()
        return Double(expected.filter { text.contains($0.lowercased()) }.count) / Double(expected.count)
    }
}
