import Evaluation

/// A prompt format for tests: whitespace-separated words are tokens (ids from an FNV-1a hash of
/// the word), with a few template words around the message, like a chat template.
struct WordPromptFormat: PromptFormat {
    func tokens(turns: [ChatTurn], answerPrefix: String) throws -> [Int32] {
        let conversation = turns.map { "<|\($0.role.rawValue)|> " + $0.content + " <|end|> " }.joined()
        return Self.words(conversation + "<|assistant|> " + answerPrefix).map(Self.id)
    }

    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: \.isWhitespace).map(String.init)
    }

    static func id(_ word: String) -> Int32 {
        var hash: UInt32 = 2_166_136_261
        for byte in word.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int32(bitPattern: hash & 0x7FFF_FFFF)
    }
}

/// Prose with sentences of varied length and no question words, standing in for real text.
func syntheticProse(sentences: Int) -> String {
    let words = ["license", "software", "copy", "distribute", "modify", "terms", "work", "program", "source", "code",
                 "notice", "permission", "warranty", "holder", "version", "library"]
    var text = ""
    for sentence in 0..<sentences {
        let length = 4 + sentence * 7 % 19
        let body = (0..<length).map { words[(sentence * 3 + $0 * 5) % words.count] }.joined(separator: " ")
        text += body.prefix(1).uppercased() + body.dropFirst() + "."
        text += sentence % 9 == 8 ? "\n\n" : " "
    }
    return text
}
