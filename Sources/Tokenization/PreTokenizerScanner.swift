/// Hand-written matchers for the pre-tokenizer regexes, following llama.cpp's
/// `unicode_regex_split_custom_*` functions alternative by alternative.
///
/// A scanner works on one range of scalar positions; positions outside it read as "no character"
/// (scalar `outOfRange`, no flags), which is how lookaheads like `\s+(?!\S)` see the fragment end.
/// Every method appends the end position of each word it finds to `wordEnds`.
struct PreTokenizerScanner {
    let scalars: UnsafeBufferPointer<UInt32>
    let flags: UnsafeBufferPointer<UnicodeCategories.Flags>

    static let outOfRange: UInt32 = 0xFFFF_FFFF

    private static let letter = UnicodeCategories.letter
    private static let number = UnicodeCategories.number
    private static let whitespace = UnicodeCategories.whitespace
    private static let letterNumberOrSpace = letter | number | whitespace

    /// `'s|'t|'re|'ve|'m|'ll|'d` at `position`: the contraction's length (2 or 3), or 0.
    /// `caseInsensitive` is the `(?i:…)` of Llama 3 / Qwen2 (ASCII letters only, as llama.cpp).
    @inline(__always)
    private func contractionLength(at position: Int, end: Int, caseInsensitive: Bool) -> Int {
        guard scalars[position] == 0x27, position + 1 < end else { return 0 }  // '
        func lowered(_ value: UInt32) -> UInt32 {
            caseInsensitive && value >= 0x41 && value <= 0x5A ? value + 0x20 : value
        }
        let next = lowered(scalars[position + 1])
        if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 { return 2 }  // s t m d
        guard position + 2 < end else { return 0 }
        let nextNext = lowered(scalars[position + 2])
        if (next == 0x72 && nextNext == 0x65) || (next == 0x76 && nextNext == 0x65) || (next == 0x6C && nextNext == 0x6C) {
            return 3  // re ve ll
        }
        return 0
    }

    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    func gpt2(_ range: Range<Int>, into wordEnds: inout [Int]) {
        let end = range.upperBound
        @inline(__always) func flagsAt(_ position: Int) -> UnicodeCategories.Flags { position < end ? flags[position] : 0 }
        var position = range.lowerBound
        while position < end {
            let scalar = scalars[position]
            let contraction = contractionLength(at: position, end: end, caseInsensitive: false)
            if contraction > 0 {
                position += contraction
                wordEnds.append(position)
                continue
            }
            let spaceFirst = scalar == 0x20
            let bodyFlags = spaceFirst ? flagsAt(position + 1) : flags[position]
            // ` ?\p{L}+` and ` ?\p{N}+`
            let category = bodyFlags & Self.letter != 0 ? Self.letter : bodyFlags & Self.number != 0 ? Self.number : 0
            if category != 0 {
                position += spaceFirst ? 1 : 0
                while flagsAt(position) & category != 0 { position += 1 }
                wordEnds.append(position)
                continue
            }
            // ` ?[^\s\p{L}\p{N}]+`
            let bodyPosition = position + (spaceFirst ? 1 : 0)
            if bodyPosition < end, bodyFlags & Self.letterNumberOrSpace == 0 {
                position = bodyPosition
                while position < end, flags[position] & Self.letterNumberOrSpace == 0 { position += 1 }
                wordEnds.append(position)
                continue
            }
            position = whitespaceRun(from: position, end: end, newlineRuns: false)
            wordEnds.append(position)
        }
    }

    /// Llama 3 (`maxDigits` 3) and Qwen2 (`maxDigits` 1):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    /// Qwen3.5 (`maxDigits` 1, `wordClass` letters and marks) reads `[\p{L}\p{M}]` for `\p{L}`
    /// in the word alternative and excludes `\p{M}` from the punctuation alternative.
    func llama3(_ range: Range<Int>, maxDigits: Int, wordClass: UnicodeCategories.Flags = UnicodeCategories.letter,
                into wordEnds: inout [Int]) {
        let wordNumberOrSpace = wordClass | Self.number | Self.whitespace
        let end = range.upperBound
        @inline(__always) func flagsAt(_ position: Int) -> UnicodeCategories.Flags { position < end ? flags[position] : 0 }
        var position = range.lowerBound
        while position < end {
            let scalar = scalars[position]
            let flag = flags[position]
            let contraction = contractionLength(at: position, end: end, caseInsensitive: true)
            if contraction > 0 {
                position += contraction
                wordEnds.append(position)
                continue
            }
            // `[^\r\n\p{L}\p{N}]?\p{L}+`
            if scalar != 0x0D, scalar != 0x0A, flag & Self.number == 0,
               flag & wordClass != 0 || flagsAt(position + 1) & wordClass != 0 {
                position += 1
                while flagsAt(position) & wordClass != 0 { position += 1 }
                wordEnds.append(position)
                continue
            }
            // `\p{N}{1,maxDigits}`
            if flag & Self.number != 0 {
                var runStart = position
                while flagsAt(position) & Self.number != 0 {
                    position += 1
                    if position - runStart >= maxDigits {
                        wordEnds.append(position)
                        runStart = position
                    }
                }
                if position > runStart { wordEnds.append(position) }
                continue
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            let spaceFirst = scalar == 0x20
            let bodyFlags = spaceFirst ? flagsAt(position + 1) : flag
            if bodyFlags & wordNumberOrSpace == 0 {
                position += spaceFirst ? 1 : 0
                while position < end, flags[position] & wordNumberOrSpace == 0 { position += 1 }
                while position < end, scalars[position] == 0x0D || scalars[position] == 0x0A { position += 1 }
                wordEnds.append(position)
                continue
            }
            position = whitespaceRun(from: position, end: end, newlineRuns: true)
            wordEnds.append(position)
        }
    }

    /// The whitespace alternatives at `position`; returns where the word ends.
    /// With `newlineRuns`: `\s*[\r\n]+` (up to the last CR/LF of the run) first. Then
    /// `\s+(?!\S)` (all but the last of two or more when a character follows) and `\s+`.
    /// A position none of them match becomes a one-character word.
    @inline(__always)
    private func whitespaceRun(from position: Int, end: Int, newlineRuns: Bool) -> Int {
        var length = 0
        var afterLastNewline = -1
        while position + length < end, flags[position + length] & Self.whitespace != 0 {
            let scalar = scalars[position + length]
            if scalar == 0x0D || scalar == 0x0A { afterLastNewline = position + length + 1 }
            length += 1
        }
        if newlineRuns, afterLastNewline >= 0 { return afterLastNewline }
        if length > 1, position + length < end { return position + length - 1 }
        if length > 0 { return position + length }
        return position + 1
    }

    /// Splits `range` into runs of characters satisfying `isMember` (each cut into pieces of at
    /// most `maxRun` characters) and the gaps between them, as a regex `Split` with `Isolated`
    /// behavior does.
    func isolateRuns(_ range: Range<Int>, maxRun: Int, into wordEnds: inout [Int],
                     isMember: (UInt32, UnicodeCategories.Flags) -> Bool) {
        var position = range.lowerBound
        var gapStart = position
        while position < range.upperBound {
            guard isMember(scalars[position], flags[position]) else { position += 1; continue }
            if position > gapStart { wordEnds.append(position) }
            var runStart = position
            while position < range.upperBound, isMember(scalars[position], flags[position]) {
                position += 1
                if position - runStart == maxRun {
                    wordEnds.append(position)
                    runStart = position
                }
            }
            if position > runStart { wordEnds.append(position) }
            gapStart = position
        }
        if range.upperBound > gapStart { wordEnds.append(range.upperBound) }
    }

    /// llama.cpp's default BPE pre-tokenizer: four regexes applied one after the other, each
    /// splitting the pieces the previous one produced.
    func legacyDefault(_ range: Range<Int>, into wordEnds: inout [Int], scratch: inout [Int]) {
        // `[\p{P}\$\+<=>\^~\|]+`
        var pieces: [Int] = []
        isolateRuns(range, maxRun: .max, into: &pieces) { scalar, flags in
            if flags & UnicodeCategories.punctuation != 0 { return true }
            switch scalar {
            case 0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x7E, 0x7C: return true  // $ + < = > ^ ~ |
            default: return false
            }
        }
        // the GPT-2 regex
        scratch.removeAll(keepingCapacity: true)
        var start = range.lowerBound
        for end in pieces { gpt2(start..<end, into: &scratch); start = end }
        // `\p{N}+`
        pieces.removeAll(keepingCapacity: true)
        start = range.lowerBound
        for end in scratch {
            isolateRuns(start..<end, maxRun: .max, into: &pieces) { _, flags in flags & UnicodeCategories.number != 0 }
            start = end
        }
        // `[0-9][0-9][0-9]`: leftmost triples of ASCII digits
        start = range.lowerBound
        for end in pieces {
            var position = start
            var gapStart = start
            while position + 3 <= end {
                if (0x30...0x39).contains(scalars[position]), (0x30...0x39).contains(scalars[position + 1]),
                   (0x30...0x39).contains(scalars[position + 2]) {
                    if position > gapStart { wordEnds.append(position) }
                    position += 3
                    wordEnds.append(position)
                    gapStart = position
                } else {
                    position += 1
                }
            }
            if end > gapStart { wordEnds.append(end) }
            start = end
        }
    }
}
