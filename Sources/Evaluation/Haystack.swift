/// The filler text a needle hides in, as a stream of sentence units. Joining consecutive units
/// reproduces the source text exactly (each unit keeps its trailing whitespace), so a haystack
/// of n units is a verbatim excerpt and needles go in between units, at sentence boundaries.
public struct Haystack: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// RULER's synthetic noise: the same five sentences over and over.
        case noise
        /// Real prose: the license corpus, starting at a seeded sentence.
        case text
    }

    public let kind: Kind
    /// The source's sentence units; the haystack cycles through them.
    public let units: [String]

    /// RULER's noise haystack (Hsieh et al., 2024, `niah.py`).
    public static let noiseSentences = [
        "The grass is green. ", "The sky is blue. ", "The sun is yellow. ", "Here we go. ", "There and back again. ",
    ]

    public static let noise = Haystack(kind: .noise, units: noiseSentences)

    /// A real-text haystack of `text` cut into sentences.
    public static func realText(_ text: String) -> Haystack {
        Haystack(kind: .text, units: sentenceUnits(of: text))
    }

    public init(kind: Kind, units: [String]) {
        precondition(!units.isEmpty, "a haystack needs text")
        self.kind = kind
        self.units = units
    }

    /// `count` units starting at unit `start`, wrapping around the source.
    public func units(from start: Int, count: Int) -> ArraySlice<String> {
        var result: [String] = []
        result.reserveCapacity(count)
        for index in 0..<count { result.append(units[(start + index) % units.count]) }
        return result[...]
    }

    /// Splits `text` after sentence ends ('.', '!', '?' or ':' followed by whitespace) and at
    /// blank lines; each unit keeps the whitespace that follows it. Very long runs without a
    /// sentence end (tables of contents, headers) are cut at line ends once they pass 400
    /// characters, so a needle can always land near its depth.
    public static func sentenceUnits(of text: String) -> [String] {
        var units: [String] = []
        var current = ""
        var iterator = Array(text).makeIterator()
        var pending: Character? = iterator.next()
        while let character = pending {
            current.append(character)
            pending = iterator.next()
            let endsSentence = ".!?:".contains(character) && (pending?.isWhitespace ?? true)
            let endsLine = character == "\n"
            let blankLine = endsLine && pending == "\n"
            if endsSentence || blankLine || (endsLine && current.count > 400) {
                // Keep the whitespace that follows with this unit.
                while let next = pending, next.isWhitespace {
                    current.append(next)
                    pending = iterator.next()
                }
                units.append(current)
                current = ""
            }
        }
        if !current.isEmpty { units.append(current) }
        return units
    }
}
