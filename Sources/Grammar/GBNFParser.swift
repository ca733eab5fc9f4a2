/// Reads grammar text in GBNF, llama.cpp's grammar form (grammars/README.md there):
///
///     root   ::= "{" ws pair ("," ws pair)* "}"      # a comment
///     pair   ::= key ":" ws [0-9]+
///     key    ::= "\"" [a-z_]{1,16} "\""
///     ws     ::= [ \t\n]{0,4}
///
/// - a rule is `name ::= body`; names are letters, digits and `-` (and `_`); the body ends at
///   the end of the line, except inside parentheses and right after `::=` or `|`;
/// - `|` separates alternatives, juxtaposition makes sequences, `( … )` groups;
/// - `"…"` string literals and `[…]` character classes (ranges `a-z`, negation `[^…]`), with
///   escapes `\n \r \t \\ \" \[ \] \- \xHH \uHHHH \UHHHHHHHH`; `.` is any character;
/// - postfix `?`, `*`, `+`, `{m}`, `{m,}`, `{m,n}`;
/// - `#` starts a comment.
///
/// Characters are Unicode scalar values; matching runs on the UTF-8 bytes of the output.
struct GBNFParser {
    private let scalars: [UInt32]
    private var position = 0
    private var line = 1
    private var groupDepth = 0
    /// Parentheses nest at most this deep.
    static let maximumGroupDepth = 200

    /// Repetition bounds above this are refused (each repetition is unrolled into rules).
    static let maximumRepetition = 100_000

    init(_ text: String) {
        scalars = text.unicodeScalars.map(\.value)
    }

    /// Rule definitions in the order they appear.
    mutating func parse() throws(GrammarError) -> [(name: String, body: GrammarExpression)] {
        var rules: [(name: String, body: GrammarExpression)] = []
        skipSpace(newlines: true)
        while position < scalars.count {
            let name = try parseName()
            skipSpace(newlines: false)
            guard consume("::=") else {
                throw error("expected '::=' after rule name '\(name)'")
            }
            skipSpace(newlines: true)
            let body = try parseAlternatives(nested: false)
            rules.append((name, body))
            skipSpace(newlines: false)
            if position < scalars.count {
                guard scalars[position] == 0x0A || scalars[position] == 0x0D else {
                    throw error("unexpected '\(character(scalars[position]))' at the end of rule '\(name)'")
                }
            }
            skipSpace(newlines: true)
        }
        return rules
    }

    private mutating func parseAlternatives(nested: Bool) throws(GrammarError) -> GrammarExpression {
        var alternatives = [try parseSequence(nested: nested)]
        while position < scalars.count && scalars[position] == UInt32(UInt8(ascii: "|")) {
            position += 1
            skipSpace(newlines: true)
            alternatives.append(try parseSequence(nested: nested))
        }
        return alternatives.count == 1 ? alternatives[0] : .alternation(alternatives)
    }

    private mutating func parseSequence(nested: Bool) throws(GrammarError) -> GrammarExpression {
        var items: [GrammarExpression] = []
        while position < scalars.count {
            let scalar = scalars[position]
            var item: GrammarExpression
            switch scalar {
            case UInt32(UInt8(ascii: "\"")):
                position += 1
                item = .literal(try parseLiteral())
            case UInt32(UInt8(ascii: "[")):
                position += 1
                item = .characters(try parseClass())
            case UInt32(UInt8(ascii: "(")):
                position += 1
                groupDepth += 1
                guard groupDepth <= Self.maximumGroupDepth else { throw error("groups nest more than \(Self.maximumGroupDepth) deep") }
                defer { groupDepth -= 1 }
                skipSpace(newlines: true)
                item = try parseAlternatives(nested: true)
                skipSpace(newlines: true)
                guard position < scalars.count, scalars[position] == UInt32(UInt8(ascii: ")")) else {
                    throw error("expected ')' to close a group")
                }
                position += 1
            case UInt32(UInt8(ascii: ".")):
                position += 1
                item = .characters(.any)
            case _ where Self.isNameScalar(scalar):
                item = .reference(try parseName())
            case UInt32(UInt8(ascii: "|")), UInt32(UInt8(ascii: ")")), 0x0A, 0x0D:
                return items.count == 1 ? items[0] : .sequence(items)
            default:
                throw error("unexpected '\(character(scalar))'")
            }
            skipSpace(newlines: nested)
            item = try parsePostfix(item, nested: nested)
            items.append(item)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func parsePostfix(_ item: GrammarExpression, nested: Bool) throws(GrammarError) -> GrammarExpression {
        var item = item
        while position < scalars.count {
            switch scalars[position] {
            case UInt32(UInt8(ascii: "*")): item = .repetition(item, minimum: 0, maximum: nil)
            case UInt32(UInt8(ascii: "+")): item = .repetition(item, minimum: 1, maximum: nil)
            case UInt32(UInt8(ascii: "?")): item = .repetition(item, minimum: 0, maximum: 1)
            case UInt32(UInt8(ascii: "{")):
                position += 1
                skipSpace(newlines: false)
                let minimum = try parseInteger()
                skipSpace(newlines: false)
                var maximum: Int? = minimum
                if consume(",") {
                    skipSpace(newlines: false)
                    maximum = position < scalars.count && isDigit(scalars[position]) ? try parseInteger() : nil
                    skipSpace(newlines: false)
                }
                guard consume("}") else { throw error("expected '}' to close a repetition") }
                if let maximum, maximum < minimum {
                    throw error("repetition {\(minimum),\(maximum)} has its maximum below its minimum")
                }
                guard (maximum ?? minimum) <= Self.maximumRepetition else {
                    throw error("repetition bound \(maximum ?? minimum) is above the limit of \(Self.maximumRepetition)")
                }
                item = .repetition(item, minimum: minimum, maximum: maximum)
                skipSpace(newlines: nested)
                continue
            default:
                return item
            }
            position += 1
            skipSpace(newlines: nested)
        }
        return item
    }

    private mutating func parseLiteral() throws(GrammarError) -> [UInt32] {
        var result: [UInt32] = []
        while position < scalars.count {
            let scalar = scalars[position]
            if scalar == UInt32(UInt8(ascii: "\"")) { position += 1; return result }
            if scalar == 0x0A { break }
            result.append(try parseCharacter())
        }
        throw error("unterminated string literal")
    }

    private mutating func parseClass() throws(GrammarError) -> CharacterClass {
        var negated = false
        if position < scalars.count && scalars[position] == UInt32(UInt8(ascii: "^")) {
            negated = true
            position += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        while position < scalars.count {
            if scalars[position] == UInt32(UInt8(ascii: "]")) {
                position += 1
                return CharacterClass(ranges: ranges, negated: negated)
            }
            if scalars[position] == 0x0A { break }
            let low = try parseCharacter()
            if position + 1 < scalars.count && scalars[position] == UInt32(UInt8(ascii: "-"))
                && scalars[position + 1] != UInt32(UInt8(ascii: "]")) {
                position += 1
                let high = try parseCharacter()
                guard low <= high else {
                    throw error("character range \(character(low))-\(character(high)) is reversed")
                }
                ranges.append(low...high)
            } else {
                ranges.append(low...low)
            }
        }
        throw error("unterminated character class")
    }

    /// One character of a literal or class, with escapes.
    private mutating func parseCharacter() throws(GrammarError) -> UInt32 {
        let scalar = scalars[position]
        position += 1
        guard scalar == UInt32(UInt8(ascii: "\\")) else { return scalar }
        guard position < scalars.count else { throw error("a '\\' ends the grammar") }
        let escaped = scalars[position]
        position += 1
        switch escaped {
        case UInt32(UInt8(ascii: "n")): return 0x0A
        case UInt32(UInt8(ascii: "r")): return 0x0D
        case UInt32(UInt8(ascii: "t")): return 0x09
        case UInt32(UInt8(ascii: "x")): return try parseHex(digits: 2)
        case UInt32(UInt8(ascii: "u")): return try parseHex(digits: 4)
        case UInt32(UInt8(ascii: "U")): return try parseHex(digits: 8)
        case UInt32(UInt8(ascii: "\\")), UInt32(UInt8(ascii: "\"")), UInt32(UInt8(ascii: "[")),
             UInt32(UInt8(ascii: "]")), UInt32(UInt8(ascii: "-")), UInt32(UInt8(ascii: "/")),
             UInt32(UInt8(ascii: "^")):
            return escaped
        default:
            throw error("unknown escape '\\\(character(escaped))'")
        }
    }

    private mutating func parseHex(digits: Int) throws(GrammarError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard position < scalars.count, let digit = Self.hexValue(scalars[position]) else {
                throw error("expected \(digits) hexadecimal digits in an escape")
            }
            value = value << 4 | digit
            position += 1
        }
        guard value <= CharacterClass.maximumScalar, !(0xD800...0xDFFF).contains(value) else {
            throw error("escape value \(value) is not a Unicode scalar value")
        }
        return value
    }

    private mutating func parseName() throws(GrammarError) -> String {
        let start = position
        while position < scalars.count && Self.isNameScalar(scalars[position]) { position += 1 }
        guard position > start else {
            throw error(position < scalars.count ? "expected a rule name, found '\(character(scalars[position]))'" : "expected a rule name")
        }
        return String(String.UnicodeScalarView(scalars[start..<position].compactMap(Unicode.Scalar.init)))
    }

    private mutating func parseInteger() throws(GrammarError) -> Int {
        var value = 0
        let start = position
        while position < scalars.count && isDigit(scalars[position]) {
            value = value * 10 + Int(scalars[position] - 0x30)
            guard value <= Self.maximumRepetition * 10 else { throw error("repetition bound too large") }
            position += 1
        }
        guard position > start else { throw error("expected a number in a repetition") }
        return value
    }

    /// Skips blanks and comments; newlines too when `newlines` (inside groups, after `::=`, `|`).
    private mutating func skipSpace(newlines: Bool) {
        while position < scalars.count {
            let scalar = scalars[position]
            if scalar == 0x20 || scalar == 0x09 {
                position += 1
            } else if scalar == UInt32(UInt8(ascii: "#")) {
                while position < scalars.count && scalars[position] != 0x0A { position += 1 }
            } else if newlines && (scalar == 0x0A || scalar == 0x0D) {
                if scalar == 0x0A { line += 1 }
                position += 1
            } else {
                return
            }
        }
    }

    private mutating func consume(_ text: String) -> Bool {
        let expected = text.unicodeScalars.map(\.value)
        guard position + expected.count <= scalars.count,
              Array(scalars[position..<position + expected.count]) == expected else { return false }
        position += expected.count
        return true
    }

    private func isDigit(_ scalar: UInt32) -> Bool { (0x30...0x39).contains(scalar) }

    static func isNameScalar(_ scalar: UInt32) -> Bool {
        (0x61...0x7A).contains(scalar) || (0x41...0x5A).contains(scalar) || (0x30...0x39).contains(scalar)
            || scalar == UInt32(UInt8(ascii: "-")) || scalar == UInt32(UInt8(ascii: "_"))
    }

    private static func hexValue(_ scalar: UInt32) -> UInt32? {
        switch scalar {
        case 0x30...0x39: return scalar - 0x30
        case 0x61...0x66: return scalar - 0x61 + 10
        case 0x41...0x46: return scalar - 0x41 + 10
        default: return nil
        }
    }

    private func character(_ scalar: UInt32) -> String {
        guard let value = Unicode.Scalar(scalar) else { return "?" }
        return value.escaped(asASCII: true)
    }

    private func error(_ message: String) -> GrammarError {
        var column = 1
        var index = min(position, scalars.count) - 1
        while index >= 0 && scalars[index] != 0x0A { column += 1; index -= 1 }
        return GrammarError("grammar error at line \(line), column \(column): \(message)")
    }
}
