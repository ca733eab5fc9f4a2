// Splits a template into text and tag tokens the way jinja2's lexer does in HF's environment
// (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`), so whitespace
// control happens here and the parser sees final text.

struct Token {
    enum Kind: Equatable {
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// Operators and punctuation: `+`, `//`, `==`, `(`, `|`, `.`, …
        case symbol(String)
        case endOfInput
    }

    let kind: Kind
    /// Code point offset in the (newline-normalized) source; `SourceMap` turns it into line:column.
    let offset: Int
}

/// Line and column (1-based, columns in code points) of source offsets.
struct SourceMap: Sendable {
    private let lineStarts: [Int]

    init(scalars: [Unicode.Scalar]) {
        var starts = [0]
        for (i, s) in scalars.enumerated() where s == "\n" { starts.append(i + 1) }
        lineStarts = starts
    }

    func location(of offset: Int) -> (line: Int, column: Int) {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return (low + 1, offset - lineStarts[low] + 1)
    }
}

struct Lexer {
    private let source: [Unicode.Scalar]
    let sourceMap: SourceMap
    private var position = 0
    private var tokens: [Token] = []
    /// Whether the last consumed text ended a line (jinja2's `line_starting`, for lstrip_blocks).
    private var lineStarting = true
    /// Open brackets inside a tag; `}}` and `%}` only close a tag when this is empty.
    private var brackets: [Unicode.Scalar] = []

    private enum TagKind { case variable, block, comment }

    init(template: String) {
        // jinja2 treats \r\n, \r and \n as line breaks, writes them as \n and drops one
        // trailing newline.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(template.unicodeScalars.count)
        var previousWasCR = false
        for s in template.unicodeScalars {
            if s == "\r" {
                scalars.append("\n")
                previousWasCR = true
                continue
            }
            if s == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = false
            scalars.append(s)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        source = scalars
        sourceMap = SourceMap(scalars: scalars)
    }

    mutating func tokenize() throws(ChatTemplateError) -> [Token] {
        while position < source.count {
            guard let (tagStart, kind) = nextTagStart(from: position) else {
                emitText(source[position...], at: position)
                position = source.count
                break
            }
            var afterOpen = tagStart + 2
            var sign: Unicode.Scalar? = nil
            if afterOpen < source.count && (source[afterOpen] == "-" || source[afterOpen] == "+") {
                sign = source[afterOpen]
                afterOpen += 1
            }
            if kind == .block, let rawContentStart = matchRawBegin(after: afterOpen) {
                emitText(stripBeforeTag(source[position..<tagStart], sign: sign, isVariable: false), at: position)
                try lexRaw(contentStart: rawContentStart, openOffset: tagStart)
                continue
            }
            emitText(stripBeforeTag(source[position..<tagStart], sign: sign, isVariable: kind == .variable), at: position)
            position = afterOpen
            switch kind {
            case .comment:
                try skipComment(openOffset: tagStart)
            case .variable:
                tokens.append(Token(kind: .variableBegin, offset: tagStart))
                try lexInsideTag(isBlock: false, openOffset: tagStart)
            case .block:
                tokens.append(Token(kind: .blockBegin, offset: tagStart))
                try lexInsideTag(isBlock: true, openOffset: tagStart)
            }
        }
        tokens.append(Token(kind: .endOfInput, offset: source.count))
        return tokens
    }

    // MARK: - Text and whitespace control

    private func nextTagStart(from start: Int) -> (Int, TagKind)? {
        var i = start
        while i + 1 < source.count {
            if source[i] == "{" {
                switch source[i + 1] {
                case "{": return (i, .variable)
                case "%": return (i, .block)
                case "#": return (i, .comment)
                default: break
                }
            }
            i += 1
        }
        return nil
    }

    /// jinja2's OptionalLStrip: `-` strips all whitespace before the tag; otherwise, for block
    /// and comment tags not opened with `+`, spaces and tabs between the line start and the tag.
    private func stripBeforeTag(_ text: ArraySlice<Unicode.Scalar>, sign: Unicode.Scalar?, isVariable: Bool)
        -> ArraySlice<Unicode.Scalar>
    {
        if sign == "-" {
            var end = text.endIndex
            while end > text.startIndex && isPythonWhitespace(text[end - 1]) { end -= 1 }
            return text[text.startIndex..<end]
        }
        if sign == "+" || isVariable { return text }
        let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? text.startIndex
        guard lineStart > text.startIndex || lineStarting else { return text }
        let rest = text[lineStart...]
        if !rest.isEmpty && rest.allSatisfy(isPythonWhitespace) { return text[text.startIndex..<lineStart] }
        return text
    }

    private mutating func emitText(_ text: ArraySlice<Unicode.Scalar>, at offset: Int) {
        guard !text.isEmpty else { return }
        tokens.append(Token(kind: .text(String(scalars: text)), offset: offset))
    }

    /// Consumes whitespace (a `-` close) or one newline (trim_blocks) after a closing tag.
    private mutating func finishTag(closeStart: Int, stripAll: Bool, trimNewline: Bool) {
        if stripAll {
            while position < source.count && isPythonWhitespace(source[position]) { position += 1 }
        } else if trimNewline && position < source.count && source[position] == "\n" {
            position += 1
        }
        lineStarting = position > closeStart && source[position - 1] == "\n"
    }

    private func matches(_ literal: String, at index: Int) -> Bool {
        var i = index
        for s in literal.unicodeScalars {
            guard i < source.count, source[i] == s else { return false }
            i += 1
        }
        return true
    }

    private mutating func skipComment(openOffset: Int) throws(ChatTemplateError) {
        var i = position
        while i < source.count {
            if (source[i] == "+" || source[i] == "-") && matches("#}", at: i + 1) {
                position = i + 3
                finishTag(closeStart: i, stripAll: source[i] == "-", trimNewline: false)
                return
            }
            if matches("#}", at: i) {
                position = i + 2
                finishTag(closeStart: i, stripAll: false, trimNewline: true)
                return
            }
            i += 1
        }
        throw error("missing end of comment tag '#}'", at: openOffset)
    }

    // MARK: - Raw blocks

    /// After `{%` (and its sign): `\s*raw\s*` then `-%}\s*` or `%}`; returns where the content starts.
    private func matchRawBegin(after start: Int) -> Int? {
        var i = start
        while i < source.count && isPythonWhitespace(source[i]) { i += 1 }
        guard matches("raw", at: i) else { return nil }
        i += 3
        while i < source.count && isPythonWhitespace(source[i]) { i += 1 }
        if matches("-%}", at: i) {
            i += 3
            while i < source.count && isPythonWhitespace(source[i]) { i += 1 }
            return i
        }
        return matches("%}", at: i) ? i + 2 : nil
    }

    private mutating func lexRaw(contentStart: Int, openOffset: Int) throws(ChatTemplateError) {
        lineStarting = contentStart > 0 && source[contentStart - 1] == "\n"
        var i = contentStart
        while i + 1 < source.count {
            if source[i] == "{" && source[i + 1] == "%" {
                var j = i + 2
                var sign: Unicode.Scalar? = nil
                if j < source.count && (source[j] == "-" || source[j] == "+") { sign = source[j]; j += 1 }
                while j < source.count && isPythonWhitespace(source[j]) { j += 1 }
                if matches("endraw", at: j) {
                    j += 6
                    while j < source.count && isPythonWhitespace(source[j]) { j += 1 }
                    let close: (length: Int, stripAll: Bool, trim: Bool)?
                    if matches("+%}", at: j) { close = (3, false, false) }
                    else if matches("-%}", at: j) { close = (3, true, false) }
                    else if matches("%}", at: j) { close = (2, false, true) }
                    else { close = nil }
                    if let close {
                        emitText(stripBeforeTag(source[contentStart..<i], sign: sign, isVariable: false), at: contentStart)
                        position = j + close.length
                        finishTag(closeStart: j, stripAll: close.stripAll, trimNewline: close.trim)
                        return
                    }
                }
            }
            i += 1
        }
        throw error("missing '{% endraw %}' for this raw block", at: openOffset)
    }

    // MARK: - Inside {{ … }} and {% … %}

    private mutating func lexInsideTag(isBlock: Bool, openOffset: Int) throws(ChatTemplateError) {
        while position < source.count {
            let start = position
            let s = source[position]
            if brackets.isEmpty {
                if isBlock {
                    if matches("+%}", at: start) || matches("-%}", at: start) || matches("%}", at: start) {
                        let length = s == "%" ? 2 : 3
                        position += length
                        finishTag(closeStart: start, stripAll: s == "-", trimNewline: s == "%")
                        tokens.append(Token(kind: .blockEnd, offset: start))
                        return
                    }
                } else if matches("-}}", at: start) || matches("}}", at: start) {
                    position += s == "-" ? 3 : 2
                    finishTag(closeStart: start, stripAll: s == "-", trimNewline: false)
                    tokens.append(Token(kind: .variableEnd, offset: start))
                    return
                }
            }
            if isPythonWhitespace(s) {
                position += 1
            } else if s.properties.numericType == .decimal && s.isASCII {
                tokens.append(try lexNumber())
            } else if s == "_" || s.properties.isAlphabetic {
                var end = position + 1
                while end < source.count, isNameContinuation(source[end]) { end += 1 }
                tokens.append(Token(kind: .name(String(scalars: source[position..<end])), offset: start))
                position = end
            } else if s == "'" || s == "\"" {
                tokens.append(try lexString())
            } else {
                tokens.append(try lexSymbol())
            }
        }
        throw error("unexpected end of template: this tag is never closed with '\(isBlock ? "%}" : "}}")'", at: openOffset)
    }

    private func isNameContinuation(_ s: Unicode.Scalar) -> Bool {
        s == "_" || s.properties.isAlphabetic || s.properties.numericType == .decimal
            || s.properties.generalCategory == .nonspacingMark || s.properties.generalCategory == .spacingMark
    }

    private mutating func lexSymbol() throws(ChatTemplateError) -> Token {
        let start = position
        for two in ["//", "**", "==", "!=", ">=", "<="] where matches(two, at: start) {
            position += 2
            return Token(kind: .symbol(two), offset: start)
        }
        let s = source[start]
        guard "+-/*%~[](){}><=.:|,;".unicodeScalars.contains(s) else {
            throw error("unexpected character '\(s)' inside a tag", at: start)
        }
        switch s {
        case "(": brackets.append(")")
        case "[": brackets.append("]")
        case "{": brackets.append("}")
        case ")", "]", "}":
            guard let expected = brackets.popLast() else { throw error("unexpected '\(s)'", at: start) }
            guard expected == s else { throw error("unexpected '\(s)', expected '\(expected)'", at: start) }
        default: break
        }
        position += 1
        return Token(kind: .symbol(String(s)), offset: start)
    }

    /// jinja2's integer (decimal, 0b, 0o, 0x, `_` separators) and float literals.
    private mutating func lexNumber() throws(ChatTemplateError) -> Token {
        let start = position
        func isDigit(_ i: Int) -> Bool { i < source.count && source[i].isASCII && source[i].properties.numericType == .decimal }
        func scanDigits(_ i: inout Int) {
            while isDigit(i) || (i < source.count && source[i] == "_" && isDigit(i + 1)) { i += 1 }
        }
        if source[start] == "0", start + 1 < source.count, let radix = ["b": 2, "B": 2, "o": 8, "O": 8, "x": 16, "X": 16][Character(source[start + 1])] {
            var i = start + 2
            var digits = ""
            while i < source.count, source[i] == "_" || Int(String(source[i]), radix: radix) != nil {
                if source[i] != "_" { digits.unicodeScalars.append(source[i]) }
                i += 1
            }
            guard let value = Int(digits, radix: radix) else { throw error("invalid integer literal", at: start) }
            position = i
            return Token(kind: .integer(value), offset: start)
        }
        var i = start
        scanDigits(&i)
        var isFloat = false
        let precededByDot = start > 0 && source[start - 1] == "."
        if !precededByDot {
            if i < source.count && source[i] == "." && isDigit(i + 1) {
                i += 1
                scanDigits(&i)
                isFloat = true
            }
            if i < source.count && (source[i] == "e" || source[i] == "E") {
                var j = i + 1
                if j < source.count && (source[j] == "+" || source[j] == "-") { j += 1 }
                if isDigit(j) {
                    scanDigits(&j)
                    i = j
                    isFloat = true
                }
            }
        }
        let text = String(scalars: source[start..<i].filter { $0 != "_" })
        position = i
        if isFloat {
            guard let value = Double(text) else { throw error("invalid float literal '\(text)'", at: start) }
            return Token(kind: .float(value), offset: start)
        }
        guard let value = Int(text) else { throw error("integer literal '\(text)' is too large", at: start) }
        return Token(kind: .integer(value), offset: start)
    }

    /// A quoted string; escapes are decoded as Python's `unicode_escape` codec does.
    private mutating func lexString() throws(ChatTemplateError) -> Token {
        let start = position
        let quote = source[start]
        var i = start + 1
        var value = String.UnicodeScalarView()
        while i < source.count && source[i] != quote {
            if source[i] == "\\" && i + 1 < source.count {
                i += 1
                let e = source[i]
                switch e {
                case "\n": break  // line continuation
                case "\\", "'", "\"": value.append(e)
                case "a": value.append("\u{07}")
                case "b": value.append("\u{08}")
                case "f": value.append("\u{0C}")
                case "n": value.append("\n")
                case "r": value.append("\r")
                case "t": value.append("\t")
                case "v": value.append("\u{0B}")
                case "0"..."7":
                    var code: UInt32 = 0
                    var count = 0
                    while count < 3 && i < source.count && ("0"..."7").contains(source[i]) {
                        code = code * 8 + (source[i].value - 48)
                        i += 1
                        count += 1
                    }
                    i -= 1
                    value.append(Unicode.Scalar(code)!)
                case "x", "u", "U":
                    let width = e == "x" ? 2 : e == "u" ? 4 : 8
                    guard i + width < source.count,
                          let code = UInt32(String(scalars: source[(i + 1)...(i + width)]), radix: 16),
                          let scalar = Unicode.Scalar(code)
                    else { throw error("invalid \\\(e) escape in string literal", at: i - 1) }
                    value.append(scalar)
                    i += width
                case "N":
                    throw error("\\N{…} escapes in string literals are not supported", at: i - 1)
                default:
                    value.append("\\")
                    value.append(e)
                }
                i += 1
                continue
            }
            value.append(source[i])
            i += 1
        }
        guard i < source.count else { throw error("unterminated string literal", at: start) }
        position = i + 1
        return Token(kind: .string(String(value)), offset: start)
    }

    private func error(_ message: String, at offset: Int) -> ChatTemplateError {
        let (line, column) = sourceMap.location(of: offset)
        return ChatTemplateError(message, kind: .syntax, line: line, column: column)
    }
}
