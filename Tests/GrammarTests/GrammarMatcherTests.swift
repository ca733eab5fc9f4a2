import Sampling
import Testing
@testable import Grammar

/// A small byte-level vocabulary: every ASCII character, common JSON pieces, multi-byte
/// characters whole and split, and one special token (no bytes) used as end of generation.
private let syntheticPieces: [[UInt8]] = {
    var pieces: [[UInt8]] = (0..<128).map { [UInt8($0)] }
    for text in ["{\"", "\":", "\": ", "\",", "\"}", "}", "{\n  \"", ",\n  \"", "\n}", "true", "false", "null", "name",
                 "age", "12", "345", "0.", "-1", "é", "😀", "Paris", " \"", "\", \"", "[1", "],", "abc\"", "\"\"", " {",
                 "\u{0}", "\\n", "\\u00e9", "\\ud83d"] {
        pieces.append(Array(text.utf8))
    }
    pieces.append([0xC3])            // first byte of "é"
    pieces.append([0xA9, 0x22])      // its second byte, then a quote
    pieces.append([0xF0, 0x9F])      // first half of "😀"
    pieces.append([0x98, 0x80])      // second half
    pieces.append([0xFF])            // never valid UTF-8
    return pieces
}()
private let endToken = Int32(syntheticPieces.count)
private let syntheticTrie = TokenTrie(vocabularySize: syntheticPieces.count + 1) { token in
    Int(token) < syntheticPieces.count ? syntheticPieces[Int(token)] : nil
}

@Suite struct GrammarMatcherTests {
    @Test func trieHoldsEveryTokenOnce() {
        #expect(syntheticTrie.tokens.count == syntheticPieces.count)
        #expect(Set(syntheticTrie.tokens).count == syntheticPieces.count)
        #expect(syntheticTrie.bytes(of: 130) == syntheticPieces[130])
        #expect(syntheticTrie.bytes(of: endToken) == nil)
    }

    /// Walks generations token by token with a seeded choice among allowed tokens; at every step
    /// the trie mask must equal the token-by-token reference mask.
    @Test(arguments: [
        [#"root ::= "{" ws "\"name\":" ws str "," ws "\"age\":" ws [0-9]+ ws "}""#, #"ws ::= [ \n]{0,3}"#, #"str ::= "\"" [^"]* "\"""#].joined(separator: "\n"),
        #"root ::= [a-zé😀]{1,6} "!""#,
        // Non-ASCII characters in overlapping classes (transitions grouped by class membership).
        #"root ::= ([é-ë] "1" | [^a-z0-9] "2" | "😀" "3" | [à-ÿ] "4")+"#,
    ])
    func trieMaskEqualsReference(gbnf: String) throws {
        let grammar = try Grammar(gbnf: gbnf)
        try walkAndCompare(grammar, seeds: 0..<12, steps: 24)
    }

    @Test func trieMaskEqualsReferenceForSchemas() throws {
        try walkAndCompare(Grammar.anyJSONObject, seeds: 0..<12, steps: 30)
        let schema = try Grammar(gbnf: JSONSchemaGrammar.gbnf(for: [
            "type": "object",
            "properties": ["name": ["type": "string", "maxLength": 5], "age": ["type": "integer", "minimum": 0, "maximum": 150]],
            "required": ["name", "age"],
        ]))
        try walkAndCompare(schema, seeds: 0..<12, steps: 30)
    }

    private func walkAndCompare(_ grammar: Grammar, seeds: Range<UInt64>, steps: Int) throws {
        for seed in seeds {
            var random = SamplerRNG(seed: seed)
            let matcher = GrammarMatcher(grammar: grammar, trie: syntheticTrie, endOfGenerationTokens: [endToken])
            var mask = TokenMask(vocabularySize: syntheticTrie.vocabularySize)
            for step in 0..<steps {
                matcher.fillMask(&mask)
                let reference = matcher.referenceMask()
                #expect(mask == reference, "seed \(seed) step \(step)")
                #expect(mask.allows(endToken) == matcher.isComplete)
                let allowed = (0..<Int32(syntheticTrie.vocabularySize)).filter { mask.allows($0) && $0 != endToken }
                if allowed.isEmpty { break }
                let token = allowed[Int(random.nextDouble() * Double(allowed.count))]
                #expect(matcher.accept(token))
            }
        }
    }

    @Test func acceptRejectsDisallowedTokensAndKeepsState() throws {
        let grammar = try Grammar(gbnf: #"root ::= "ab""#)
        let matcher = GrammarMatcher(grammar: grammar, trie: syntheticTrie, endOfGenerationTokens: [endToken])
        #expect(!matcher.accept(Int32(UInt8(ascii: "b"))))
        #expect(!matcher.accept(endToken), "end of generation before the grammar is complete")
        #expect(matcher.accept(Int32(UInt8(ascii: "a"))))
        #expect(!matcher.isComplete)
        #expect(matcher.accept(Int32(UInt8(ascii: "b"))))
        #expect(matcher.isComplete && matcher.isTerminated)
        var mask = TokenMask(vocabularySize: syntheticTrie.vocabularySize)
        matcher.fillMask(&mask)
        #expect(mask.allowedCount == 1 && mask.allows(endToken), "only end of generation is left")
    }

    @Test func completeButNotTerminated() throws {
        let matcher = GrammarMatcher(grammar: try Grammar(gbnf: "root ::= [0-9]+"), trie: syntheticTrie, endOfGenerationTokens: [endToken])
        #expect(matcher.accept(Int32(UInt8(ascii: "7"))))
        #expect(matcher.isComplete && !matcher.isTerminated)
        var mask = TokenMask(vocabularySize: syntheticTrie.vocabularySize)
        matcher.fillMask(&mask)
        #expect(mask.allows(endToken) && mask.allows(Int32(UInt8(ascii: "3"))) && !mask.allows(Int32(UInt8(ascii: "a"))))
    }

    @Test func splitUTF8CharactersAcrossTokens() throws {
        let matcher = GrammarMatcher(grammar: try Grammar(gbnf: #"root ::= "é\"""#), trie: syntheticTrie, endOfGenerationTokens: [endToken])
        let firstHalf = Int32(syntheticPieces.firstIndex(of: [0xC3])!)
        let secondHalf = Int32(syntheticPieces.firstIndex(of: [0xA9, 0x22])!)
        var mask = TokenMask(vocabularySize: syntheticTrie.vocabularySize)
        matcher.fillMask(&mask)
        #expect(mask.allows(firstHalf))
        #expect(!mask.allows(Int32(syntheticPieces.firstIndex(of: [0xF0, 0x9F])!)), "a 4-byte lead cannot start é")
        #expect(matcher.accept(firstHalf))
        matcher.fillMask(&mask)
        #expect(mask.allows(secondHalf) && mask.allowedCount == 1)
        #expect(matcher.accept(secondHalf))
        #expect(matcher.isTerminated)
    }

    /// Two requests with one grammar share the tables: the second finds the first one's masks.
    @Test func sharedTablesServeLaterRequests() throws {
        let tables = GrammarTables(grammar: try Grammar(gbnf: #"root ::= "\"" [a-z]* "\"""#), trie: syntheticTrie, endOfGenerationTokens: [endToken])
        var mask = TokenMask(vocabularySize: syntheticTrie.vocabularySize)
        for expectedComputed in [3, 0] {
            let matcher = GrammarMatcher(tables: tables)
            for byte in Array("\"ab\"".utf8) {
                matcher.fillMask(&mask)
                #expect(mask == matcher.referenceMask())
                #expect(matcher.accept(Int32(byte)))
            }
            matcher.fillMask(&mask)
            #expect(matcher.isTerminated && mask.allowedCount == 1)
            #expect(matcher.masksComputed == expectedComputed)
        }
    }

    /// An automaton that starts over (bounded states) while several matchers use it: each
    /// re-enters its state and every mask still equals the reference.
    @Test func restartedAutomatonKeepsMatchersCorrect() throws {
        let grammar = try Grammar(gbnf: #"root ::= [a-z0-9]{0,40} "!""#)
        let tables = GrammarTables(grammar: grammar, trie: syntheticTrie, endOfGenerationTokens: [endToken], maximumStates: 4)
        let matchers = (0..<3).map { _ in GrammarMatcher(tables: tables) }
        var mask = TokenMask(vocabularySize: syntheticTrie.vocabularySize)
        var random = SamplerRNG(seed: 5)
        for step in 0..<30 {
            for (index, matcher) in matchers.enumerated() where !matcher.isTerminated {
                matcher.fillMask(&mask)
                #expect(mask == matcher.referenceMask(), "matcher \(index) step \(step)")
                let allowed = (0..<Int32(syntheticTrie.vocabularySize)).filter { mask.allows($0) && $0 != endToken }
                guard !allowed.isEmpty else { continue }
                #expect(matcher.accept(allowed[Int(random.nextDouble() * Double(allowed.count))]))
            }
        }
        #expect(tables.generation > 0, "the automaton started over at least once")
    }

    @Test func repeatedStatesComeFromTheCache() throws {
        let matcher = GrammarMatcher(grammar: try Grammar(gbnf: #"root ::= "\"" [a-z]* "\"""#), trie: syntheticTrie, endOfGenerationTokens: [])
        var mask = TokenMask(vocabularySize: syntheticTrie.vocabularySize)
        matcher.fillMask(&mask)
        matcher.accept(Int32(UInt8(ascii: "\"")))
        for letter in "abcabc" {
            matcher.fillMask(&mask)
            #expect(matcher.accept(Int32(letter.asciiValue!)))
        }
        #expect(matcher.masksComputed == 2)
        #expect(matcher.masksFromCache == 5)
    }
}


@Suite struct UTF8ValidityTests {
    /// Overlong forms, surrogates and values above U+10FFFF never match, even where any
    /// character is allowed.
    @Test(arguments: [
        [0xC0, 0xBB], [0xC1, 0xBF], [0xE0, 0x81, 0xBB], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80],
        [0xF0, 0x80, 0x81, 0xBB], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0x80], [0xC3, 0x41],
    ] as [[UInt8]])
    func invalidSequencesAreRejected(bytes: [UInt8]) throws {
        let grammar = try Grammar(gbnf: "root ::= .*")
        let stepper = GrammarStepper(grammar: grammar)
        #expect(GrammarMatcher.advance(stepper.initialState(), by: bytes, stepper: stepper) == nil)
    }

    @Test func validSequencesAtTheEdgesAreAccepted() throws {
        let grammar = try Grammar(gbnf: "root ::= .*")
        for text in ["\u{80}", "\u{7FF}", "\u{800}", "\u{D7FF}", "\u{E000}", "\u{FFFF}", "\u{10000}", "\u{10FFFF}"] {
            #expect(accepts(grammar, text), "\(text.unicodeScalars.first!.value)")
        }
    }
}
