// Python's `str` operations over code points (Python indexes, slices and measures strings by
// code point; Swift's `Character` is a grapheme cluster, so everything here goes through
// `unicodeScalars`).

/// Python's `str.isspace()` for one character (also the `\s` of jinja2's lexer regexes).
func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        return true
    default:
        return false
    }
}

extension String {
    var scalarCount: Int { unicodeScalars.count }

    init<S: Sequence>(scalars: S) where S.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        self = String(view)
    }

    /// `str.strip/lstrip/rstrip(chars)`; `chars == nil` strips whitespace.
    func pythonStrip(_ chars: String?, leading: Bool = true, trailing: Bool = true) -> String {
        let set = chars.map { Array($0.unicodeScalars) }
        func strippable(_ s: Unicode.Scalar) -> Bool { set.map { $0.contains(s) } ?? isPythonWhitespace(s) }
        let scalars = Array(unicodeScalars)
        var start = 0
        var end = scalars.count
        if leading { while start < end && strippable(scalars[start]) { start += 1 } }
        if trailing { while end > start && strippable(scalars[end - 1]) { end -= 1 } }
        if start == 0 && end == scalars.count { return self }
        return String(scalars: scalars[start..<end])
    }

    /// `str.split(sep, maxsplit)`; `sep == nil` splits on runs of whitespace and drops empty
    /// pieces. `maxsplit < 0` means no limit.
    func pythonSplit(_ separator: String?, maxSplit: Int = -1) -> [String] {
        guard let separator else {
            var pieces: [String] = []
            var current = String.UnicodeScalarView()
            var inPiece = false
            var remainingSplits = maxSplit
            let scalars = Array(unicodeScalars)
            var i = 0
            while i < scalars.count {
                let s = scalars[i]
                if isPythonWhitespace(s) {
                    if inPiece {
                        pieces.append(String(current))
                        current = String.UnicodeScalarView()
                        inPiece = false
                        if remainingSplits > 0 { remainingSplits -= 1 }
                    }
                    i += 1
                    continue
                }
                if !inPiece && remainingSplits == 0 {
                    // The rest of the string, trailing whitespace included, is the last piece.
                    pieces.append(String(scalars: scalars[i...]))
                    return pieces
                }
                inPiece = true
                current.append(s)
                i += 1
            }
            if inPiece { pieces.append(String(current)) }
            return pieces
        }
        let text = Array(utf8)
        let needle = Array(separator.utf8)
        var pieces: [String] = []
        var start = 0
        var i = 0
        while i + needle.count <= text.count && (maxSplit < 0 || pieces.count < maxSplit) {
            if text[i..<(i + needle.count)].elementsEqual(needle) {
                pieces.append(String(decoding: text[start..<i], as: UTF8.self))
                i += needle.count
                start = i
            } else {
                i += 1
            }
        }
        pieces.append(String(decoding: text[start...], as: UTF8.self))
        return pieces
    }

    /// `str.rsplit(sep, maxsplit)` for an explicit separator.
    func pythonRSplit(_ separator: String, maxSplit: Int) -> [String] {
        if maxSplit < 0 { return pythonSplit(separator) }
        let text = Array(utf8)
        let needle = Array(separator.utf8)
        var pieces: [String] = []
        var end = text.count
        var i = text.count - needle.count
        while i >= 0 && pieces.count < maxSplit {
            if text[i..<(i + needle.count)].elementsEqual(needle) {
                pieces.append(String(decoding: text[(i + needle.count)..<end], as: UTF8.self))
                end = i
                i -= needle.count
            } else {
                i -= 1
            }
        }
        pieces.append(String(decoding: text[..<end], as: UTF8.self))
        return pieces.reversed()
    }

    /// Byte offset of the first occurrence of `needle` (UTF-8 search is code-point exact).
    func pythonFind(_ needle: String, from: Int = 0) -> Int? {
        let text = Array(utf8)
        let pattern = Array(needle.utf8)
        if pattern.isEmpty { return min(from, text.count) }
        var i = from
        while i + pattern.count <= text.count {
            if text[i] == pattern[0] && text[i..<(i + pattern.count)].elementsEqual(pattern) { return i }
            i += 1
        }
        return nil
    }

    /// Byte offset of the last occurrence of `needle`.
    func pythonFindLast(_ needle: String) -> Int? {
        let text = Array(utf8)
        let pattern = Array(needle.utf8)
        var i = text.count - pattern.count
        while i >= 0 {
            if text[i..<(i + pattern.count)].elementsEqual(pattern) { return i }
            i -= 1
        }
        return nil
    }

    func pythonContains(_ needle: String) -> Bool { pythonFind(needle) != nil }

    func pythonHasPrefix(_ prefix: String) -> Bool { utf8.starts(with: prefix.utf8) }

    func pythonHasSuffix(_ suffix: String) -> Bool { utf8.reversed().starts(with: suffix.utf8.reversed()) }

    /// `str.replace(old, new, count)`; an empty `old` inserts `new` between every code point.
    func pythonReplace(_ old: String, with new: String, count limit: Int = -1) -> String {
        if old.isEmpty {
            var out = String.UnicodeScalarView()
            var inserted = 0
            for s in unicodeScalars {
                if limit < 0 || inserted < limit { out.append(contentsOf: new.unicodeScalars); inserted += 1 }
                out.append(s)
            }
            if limit < 0 || inserted < limit { out.append(contentsOf: new.unicodeScalars) }
            return String(out)
        }
        let pieces = pythonSplit(old, maxSplit: limit)
        return pieces.joined(separator: new)
    }

    /// Number of non-overlapping occurrences (`str.count`).
    func pythonCount(_ needle: String) -> Int {
        if needle.isEmpty { return scalarCount + 1 }
        return pythonSplit(needle).count - 1
    }

    func pythonUpper() -> String { uppercased() }
    func pythonLower() -> String { lowercased() }

    /// `str.capitalize()` (Python ≥ 3.8): first character in title case, the rest lower case.
    func pythonCapitalize() -> String {
        guard let first = unicodeScalars.first else { return self }
        return first.properties.titlecaseMapping + String(scalars: unicodeScalars.dropFirst()).lowercased()
    }

    /// `str.title()`: a cased character after an uncased one is title-cased, others lower-cased.
    func pythonTitle() -> String {
        var out = ""
        var previousCased = false
        for s in unicodeScalars {
            out += previousCased ? s.properties.lowercaseMapping : s.properties.titlecaseMapping
            previousCased = isCased(s)
        }
        return out
    }

    /// jinja2's `title` filter, which differs from `str.title()`: words start after whitespace
    /// or one of `-({[<`, and only their first character changes case (rest lower-cased).
    func jinjaTitle() -> String {
        var out = ""
        var atWordStart = true
        for s in unicodeScalars {
            if isPythonWhitespace(s) || "-({[<".unicodeScalars.contains(s) {
                out.unicodeScalars.append(s)
                atWordStart = true
            } else if atWordStart {
                out += s.properties.uppercaseMapping
                atWordStart = false
            } else {
                out += s.properties.lowercaseMapping
            }
        }
        return out
    }

    func pythonIsLower() -> Bool {
        var sawCased = false
        for s in unicodeScalars where isCased(s) {
            if s.properties.generalCategory != .lowercaseLetter { return false }
            sawCased = true
        }
        return sawCased
    }

    func pythonIsUpper() -> Bool {
        var sawCased = false
        for s in unicodeScalars where isCased(s) {
            if s.properties.generalCategory != .uppercaseLetter && s.properties.generalCategory != .titlecaseLetter {
                return false
            }
            sawCased = true
        }
        return sawCased
    }

    /// `str.isdigit()`, `isalpha()`, `isalnum()`, `isspace()` (false for the empty string).
    func pythonAll(_ predicate: (Unicode.Scalar) -> Bool) -> Bool {
        !isEmpty && unicodeScalars.allSatisfy(predicate)
    }
}

private func isCased(_ s: Unicode.Scalar) -> Bool {
    switch s.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter: return true
    default: return false
    }
}

func isPythonDigit(_ s: Unicode.Scalar) -> Bool { s.properties.numericType == .decimal || s.properties.numericType == .digit }
func isPythonAlpha(_ s: Unicode.Scalar) -> Bool {
    switch s.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
    default: return false
    }
}
