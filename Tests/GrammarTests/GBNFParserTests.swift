import JSON
import Testing
@testable import Grammar

/// Whether `grammar` accepts exactly `text` (matched as UTF-8 bytes, complete at the end).
func accepts(_ grammar: Grammar, _ text: String) -> Bool {
    let stepper = GrammarStepper(grammar: grammar)
    guard let state = GrammarMatcher.advance(stepper.initialState(), by: Array(text.utf8), stepper: stepper) else { return false }
    return state.isComplete
}

/// Whether `text` can be continued into a sentence of `grammar`.
func isPrefix(_ grammar: Grammar, _ text: String) -> Bool {
    let stepper = GrammarStepper(grammar: grammar)
    return GrammarMatcher.advance(stepper.initialState(), by: Array(text.utf8), stepper: stepper) != nil
}

@Suite struct GBNFParserTests {
    @Test func literalsAlternativesAndSequences() throws {
        let grammar = try Grammar(gbnf: #"root ::= "yes" | "no" | "maybe" " " "so""#)
        #expect(accepts(grammar, "yes"))
        #expect(accepts(grammar, "no"))
        #expect(accepts(grammar, "maybe so"))
        #expect(!accepts(grammar, "maybe"))
        #expect(isPrefix(grammar, "may"))
        #expect(!isPrefix(grammar, "yess"))
    }

    @Test func repetitionOperators() throws {
        let grammar = try Grammar(gbnf: """
            root ::= "a"? "b"* "c"+ d{2} e{1,3} f{2,}
            d ::= "d"
            e ::= "e"
            f ::= "f"
            """)
        #expect(accepts(grammar, "cddeff"))
        #expect(accepts(grammar, "abbbcccddeeefffff"))
        #expect(!accepts(grammar, "ddeff"), "c+ needs one c")
        #expect(!accepts(grammar, "cdeff"), "d{2} needs two")
        #expect(!accepts(grammar, "cddeeeeff"), "e{1,3} allows at most three")
        #expect(!accepts(grammar, "cddef"), "f{2,} needs two")
        #expect(!accepts(grammar, "aacddeff"))
    }

    @Test func characterClassesRangesNegationAndAny() throws {
        let grammar = try Grammar(gbnf: #"root ::= [a-c0-9_] [^x-z\n] . "!""#)
        #expect(accepts(grammar, "a!?!"))
        #expect(accepts(grammar, "_é😀!"), "non-ASCII characters match negated classes and '.'")
        #expect(!accepts(grammar, "d!?!"))
        #expect(!accepts(grammar, "ay?!"))
        #expect(!accepts(grammar, "a\n?!"))
    }

    @Test func escapesInLiteralsAndClasses() throws {
        let grammar = try Grammar(gbnf: #"root ::= "\"\\\n\t\x41\u00e9\U0001F600" [\]\-\[]"#)
        #expect(accepts(grammar, "\"\\\n\tAé😀]"))
        #expect(accepts(grammar, "\"\\\n\tAé😀-"))
        #expect(!accepts(grammar, "\"\\\n\tAé😀a"))
    }

    @Test func groupsNestAndSpanLines() throws {
        let grammar = try Grammar(gbnf: """
            # a comment line
            root ::= "[" (
                item ("," item)*
              )? "]"   # trailing comment
            item ::=
              [0-9]+ | "x"
            """)
        #expect(accepts(grammar, "[]"))
        #expect(accepts(grammar, "[1,22,x]"))
        #expect(!accepts(grammar, "[1,]"))
    }

    @Test func recursionThroughRules() throws {
        let grammar = try Grammar(gbnf: #"""
            root ::= list
            list ::= "(" (list | "a")* ")"
            """#)
        #expect(accepts(grammar, "()"))
        #expect(accepts(grammar, "(a(a())a)"))
        #expect(!accepts(grammar, "(a(a)"))
    }

    /// llama.cpp's grammars/json.gbnf, as shipped: comments inside groups, alternatives across
    /// lines, `{m,n}` bounds.
    @Test func llamaCppJSONGrammar() throws {
        let grammar = try Grammar(gbnf: #"""
            root   ::= object
            value  ::= object | array | string | number | ("true" | "false" | "null") ws

            object ::=
              "{" ws (
                        string ":" ws value
                ("," ws string ":" ws value)*
              )? "}" ws

            array  ::=
              "[" ws (
                        value
                ("," ws value)*
              )? "]" ws

            string ::=
              "\"" (
                [^"\\\x7F\x00-\x1F] |
                "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
              )* "\"" ws

            number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws

            # Optional space: by convention, applied in this grammar after literal chars when allowed
            ws ::= | " " | "\n" [ \t]{0,20}
            """#)
        #expect(accepts(grammar, #"{"a": [1, 2.5e3, "x\n\u00e9", true, null, {}]} "#))
        #expect(!accepts(grammar, #"{"a": 01}"#))
    }

    @Test func rootSelection() throws {
        let grammar = try Grammar(gbnf: "start ::= \"s\"\nroot ::= \"r\"", root: "start")
        #expect(accepts(grammar, "s"))
        #expect(!accepts(grammar, "r"))
    }

    @Test(arguments: [
        ("root ::= foo", "undefined rule 'foo'"),
        ("root ::= \"a\"\nroot ::= \"b\"", "defined twice"),
        ("other ::= \"a\"", "no 'root' rule"),
        ("root ::= \"abc", "unterminated string literal"),
        ("root ::= [a-", "unterminated character class"),
        ("root ::= (\"a\"", "expected ')'"),
        ("root ::= \"a\"{3,1}", "maximum below its minimum"),
        ("root ::= \"a\"{1000001}", "repetition bound"),
        ("root ::= [z-a]", "reversed"),
        ("root \"a\"", "expected '::='"),
        ("root ::= \"\\q\"", "unknown escape"),
        ("root ::= root \"a\" | \"b\"", "left-recursive"),
        ("root ::= x root | \"b\"\nx ::= \"\" | \"c\"", "left-recursive"),
        ("", "empty"),
    ])
    func errorsNameTheProblem(source: String, expected: String) {
        #expect(throws: GrammarError.self) { try Grammar(gbnf: source) }
        do {
            _ = try Grammar(gbnf: source)
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    /// Inputs built to exhaust the stack are refused with a message, never a crash.
    @Test func pathologicalNestingIsRefused() {
        let deepGroups = "root ::= " + String(repeating: "(", count: 5000) + "\"a\"" + String(repeating: ")", count: 5000)
        #expect(throws: GrammarError.self) { try Grammar(gbnf: deepGroups) }
        let nullableChain = "root ::= " + String(repeating: "n ", count: 20_000) + "\"x\"\nn ::= \"\" | \"y\""
        do {
            _ = try Grammar(gbnf: nullableChain)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("deep"), "\(error.message)")
        }
        var schema = "{}"
        for _ in 0..<150 { schema = #"{"type": "array", "items": "# + schema + "}" }
        #expect(throws: GrammarError.self) { try Grammar(jsonSchema: JSONValue.parse(schema)) }
    }

    @Test func errorsCarryLineAndColumn() {
        do {
            _ = try Grammar(gbnf: "root ::= \"a\"\nitem ::= \"b\" @")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("line 2"), "\(error.message)")
        }
    }

    @Test func literalHelperRoundTrips() throws {
        let text = "<tool_call>\n{\"name\": \"a\\b\"}\t\u{1}é"
        let grammar = try Grammar(gbnf: "root ::= " + GBNF.literal(text))
        #expect(accepts(grammar, text))
    }
}
