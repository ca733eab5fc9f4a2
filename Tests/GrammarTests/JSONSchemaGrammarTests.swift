import JSON
import Testing
@testable import Grammar

private func schemaGrammar(_ schemaText: String) throws -> Grammar {
    try Grammar(jsonSchema: JSONValue.parse(schemaText))
}

private func expectAccepts(_ grammar: Grammar, _ texts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for text in texts { #expect(accepts(grammar, text), "should accept \(text)", sourceLocation: sourceLocation) }
}

private func expectRejects(_ grammar: Grammar, _ texts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for text in texts { #expect(!accepts(grammar, text), "should reject \(text)", sourceLocation: sourceLocation) }
}

@Suite struct JSONSchemaGrammarTests {
    @Test func anyJSONObject() {
        let grammar = Grammar.anyJSONObject
        expectAccepts(grammar, [#"{}"#, #"{"a":1}"#, #"{ "a": [1, 2.5, -3e10, "x", true, null, {"b": {}}] }"#,
                                "{\n  \"a\": \"\\n\\u00e9\"\n}", #"{"é": "😀"}"#])
        expectRejects(grammar, [#"[]"#, #"{"a":}"#, #"{"a":1,}"#, #"{'a':1}"#, #" {}"#, #"{} "#, #"{"a":01}"#,
                                #"{"a":"\ud800"}"#, "{\"a\":\"\u{1}\"}", #"{"a":1.}"#])
    }

    @Test func whitespaceIsBounded() {
        let grammar = Grammar.anyJSONObject
        #expect(accepts(grammar, "{\n" + String(repeating: " ", count: 20) + "\"a\": 1}"))
        #expect(!isPrefix(grammar, "{\n" + String(repeating: " ", count: 21)))
        #expect(!isPrefix(grammar, "{  "), "at most one space")
    }

    @Test func requiredAndOptionalPropertiesInSchemaOrder() throws {
        let grammar = try schemaGrammar(#"""
            {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"}},
             "required": ["b"], "additionalProperties": false}
            """#)
        expectAccepts(grammar, [#"{"b":"x"}"#, #"{"a":1,"b":"x"}"#, #"{"b":"x","c":true}"#, #"{"a": 1, "b": "", "c": false}"#])
        expectRejects(grammar, [#"{}"#, #"{"a":1}"#, #"{"b":"x","a":1}"#, #"{"b":1}"#, #"{"b":"x","d":1}"#, #"{"b":"x",}"#])
    }

    @Test func additionalPropertiesAbsentTrueAndSchema() throws {
        let declaredOnly = try schemaGrammar(#"{"properties": {"a": {"type": "integer"}}}"#)
        expectAccepts(declaredOnly, [#"{}"#, #"{"a":1}"#])
        expectRejects(declaredOnly, [#"{"z":1}"#])

        let open = try schemaGrammar(#"{"properties": {"ab": {"type": "integer"}}, "additionalProperties": true}"#)
        expectAccepts(open, [#"{"ab":1,"x":"y"}"#, #"{"a":null}"#, #"{"abc":[]}"#, #"{"":1}"#, #"{"x":1,"y":2}"#])
        expectRejects(open, [#"{"ab":1,"ab":"no"}"#, #"{"ab":"x"}"#], )

        let typed = try schemaGrammar(#"{"type": "object", "additionalProperties": {"type": "number"}}"#)
        expectAccepts(typed, [#"{}"#, #"{"x":1.5,"y":-2}"#])
        expectRejects(typed, [#"{"x":"1"}"#])

        let anyKeys = try schemaGrammar(#"{"type": "object"}"#)
        expectAccepts(anyKeys, [#"{"k":[1,{"n":null}]}"#])
    }

    @Test func requiredNamesWithoutADeclaredSchema() throws {
        let anyValue = try schemaGrammar(#"{"properties": {"a": {"type": "integer"}}, "required": ["b"]}"#)
        expectAccepts(anyValue, [#"{"b":[1]}"#, #"{"a":1,"b":"x"}"#])
        expectRejects(anyValue, [#"{"a":1}"#])
        let typed = try schemaGrammar(#"{"required": ["b"], "additionalProperties": {"type": "boolean"}}"#)
        expectAccepts(typed, [#"{"b":true}"#, #"{"b":false,"c":true}"#])
        expectRejects(typed, [#"{"b":1}"#, #"{"b":true,"b":false}"#])
        #expect(throws: GrammarError.self) {
            try schemaGrammar(#"{"properties": {"a": {}}, "required": ["b"], "additionalProperties": false}"#)
        }
    }

    @Test func arraysWithItemsAndLengthBounds() throws {
        let grammar = try schemaGrammar(#"{"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 3}"#)
        expectAccepts(grammar, ["[1,2]", "[1, 2, 3]", "[ 1,2 ]"])
        expectRejects(grammar, ["[]", "[1]", "[1,2,3,4]", #"[1,"a"]"#])
        let unbounded = try schemaGrammar(#"{"type": "array", "items": {"type": "string"}}"#)
        expectAccepts(unbounded, ["[]", #"["a"]"#, #"["a","b","c","d"]"#])
        let empty = try schemaGrammar(#"{"type": "array", "maxItems": 0}"#)
        expectAccepts(empty, ["[]"])
        expectRejects(empty, ["[1]"])
    }

    @Test func enumAndConst() throws {
        let grammar = try schemaGrammar(#"{"enum": ["red", "green", 3, null, {"a": [1]}]}"#)
        expectAccepts(grammar, [#""red""#, #""green""#, "3", "null", #"{"a":[1]}"#])
        expectRejects(grammar, [#""blue""#, "4", #""Red""#])
        let constant = try schemaGrammar(#"{"const": "fixed"}"#)
        expectAccepts(constant, [#""fixed""#])
        expectRejects(constant, [#""other""#])
    }

    @Test func stringLengths() throws {
        let grammar = try schemaGrammar(#"{"type": "string", "minLength": 2, "maxLength": 4}"#)
        expectAccepts(grammar, [#""ab""#, #""abcd""#, #""a\nb""#, #""éé""#])
        expectRejects(grammar, [#""a""#, #""abcde""#, #""""#])
    }

    @Test func stringFormats() throws {
        let date = try schemaGrammar(#"{"type": "string", "format": "date"}"#)
        expectAccepts(date, [#""2024-01-31""#, #""1999-11-30""#, #""2023-02-28""#])
        expectRejects(date, [#""2024-02-30""#, #""2024-04-31""#, #""2024-13-01""#, #""2024-1-01""#])
        let dateTime = try schemaGrammar(#"{"type": "string", "format": "date-time"}"#)
        expectAccepts(dateTime, [#""2024-01-31T23:59:59Z""#, #""2024-01-31T00:00:00.123+05:30""#])
        expectRejects(dateTime, [#""2024-01-31 23:59:59Z""#, #""2024-01-31T24:00:00Z""#])
        let time = try schemaGrammar(#"{"type": "string", "format": "time"}"#)
        expectAccepts(time, [#""12:00:00Z""#])
        let uuid = try schemaGrammar(#"{"type": "string", "format": "uuid"}"#)
        expectAccepts(uuid, [#""123e4567-e89b-12d3-a456-426614174000""#])
        expectRejects(uuid, [#""123e4567e89b12d3a456426614174000""#])
        let email = try schemaGrammar(#"{"type": "string", "format": "email"}"#)
        expectAccepts(email, [#""first.last+tag@example.co.uk""#])
        expectRejects(email, [#""no-at-sign.example.com""#, #""a@b""#])
    }

    @Test func integerBoundsAreExact() throws {
        let ranges: [(String, ClosedRange<Int>)] = [
            (#"{"type": "integer", "minimum": 13, "maximum": 219}"#, 13...219),
            (#"{"type": "integer", "minimum": -25, "maximum": 7}"#, -25...7),
            (#"{"type": "integer", "exclusiveMinimum": -10, "exclusiveMaximum": -2}"#, -9...(-3)),
            (#"{"type": "integer", "minimum": 0, "maximum": 0}"#, 0...0),
            (#"{"type": "integer", "minimum": 1.5, "maximum": 100}"#, 2...100),
        ]
        for (schema, range) in ranges {
            let grammar = try schemaGrammar(schema)
            for value in (range.lowerBound - 30)...(range.upperBound + 30) {
                #expect(accepts(grammar, String(value)) == range.contains(value), "\(schema): \(value)")
            }
            #expect(!accepts(grammar, "-0"))
            #expect(!accepts(grammar, "0" + String(range.upperBound)) || range.upperBound == 0)
        }
        let open = try schemaGrammar(#"{"type": "integer", "minimum": 10}"#)
        expectAccepts(open, ["10", "11", "999999", "9999999999999999"])
        expectRejects(open, ["9", "-1", "0", "99999999999999999"])
        let below = try schemaGrammar(#"{"type": "integer", "maximum": -5}"#)
        expectAccepts(below, ["-5", "-100"])
        expectRejects(below, ["-4", "0", "5"])
    }

    @Test func numberBoundsStayInside() throws {
        let grammar = try schemaGrammar(#"{"type": "number", "minimum": -1, "maximum": 2}"#)
        expectAccepts(grammar, ["-1", "-0.5", "0", "0.25", "1.999", "2", "2.000", "-1.0"])
        expectRejects(grammar, ["-1.5", "2.5", "2.001", "3", "-2", "1e3"])
        let exclusive = try schemaGrammar(#"{"type": "number", "exclusiveMinimum": 0, "maximum": 1}"#)
        expectAccepts(exclusive, ["1", "1.0"])
        expectRejects(exclusive, ["0", "0.5", "1.5"])
        let plain = try schemaGrammar(#"{"type": "number"}"#)
        expectAccepts(plain, ["0", "-1.5e-3", "12345"])
        expectRejects(plain, ["1.", ".5", "+1", "01"])
    }

    @Test func booleansNullAndNullableTypes() throws {
        let grammar = try schemaGrammar(#"{"type": ["boolean", "null"]}"#)
        expectAccepts(grammar, ["true", "false", "null"])
        expectRejects(grammar, ["0", #""true""#])
        let openAPI = try schemaGrammar(#"{"type": "string", "nullable": true}"#)
        expectAccepts(openAPI, [#""x""#, "null"])
    }

    @Test func anyOfAndOneOf() throws {
        let grammar = try schemaGrammar(#"{"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 1}]}"#)
        expectAccepts(grammar, ["5", #""a""#])
        expectRejects(grammar, [#""ab""#, "true"])
        let oneOf = try schemaGrammar(#"{"oneOf": [{"const": 1}, {"const": 2}]}"#)
        expectAccepts(oneOf, ["1", "2"])
        expectRejects(oneOf, ["3"])
    }

    @Test func referencesAndRecursion() throws {
        let grammar = try schemaGrammar(#"""
            {"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"},
                                                                 "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                                "required": ["value"], "additionalProperties": false}},
             "$ref": "#/$defs/node"}
            """#)
        expectAccepts(grammar, [#"{"value":1}"#, #"{"value":1,"children":[{"value":2,"children":[]},{"value":3}]}"#])
        expectRejects(grammar, [#"{"value":1,"children":[{}]}"#])
        let legacy = try schemaGrammar(##"{"definitions": {"a~b/c": {"type": "boolean"}}, "properties": {"x": {"$ref": "#/definitions/a~0b~1c"}}, "required": ["x"]}"##)
        expectAccepts(legacy, [#"{"x":true}"#])
        let root = try schemaGrammar(##"{"type": "array", "items": {"anyOf": [{"type": "integer"}, {"$ref": "#"}]}}"##)
        expectAccepts(root, ["[1,[2,[]]]"])
    }

    @Test func annotationsAreIgnored() throws {
        let grammar = try schemaGrammar(##"{"title": "T", "description": "d", "type": "integer", "default": 3, "examples": [1], "x-extra": 1, "$schema": "https://json-schema.org/draft/2020-12/schema"}"##)
        expectAccepts(grammar, ["3"])
    }

    @Test(arguments: [
        (#"{"type": "string", "pattern": "^a+$"}"#, "pattern"),
        (#"{"type": "object", "patternProperties": {"^x": {}}}"#, "patternProperties"),
        (#"{"if": {"type": "string"}, "then": {"minLength": 1}}"#, "if"),
        (#"{"not": {"type": "null"}}"#, "not"),
        (#"{"type": "array", "uniqueItems": true}"#, "uniqueItems"),
        (#"{"type": "object", "properties": {"a": {"type": "number", "multipleOf": 2}}}"#, "multipleOf"),
        (#"{"type": "string", "format": "hostname"}"#, "format"),
        (#"{"type": "widget"}"#, "type"),
        (#"{"allOf": [{"type": "string"}, {"maxLength": 2}]}"#, "allOf"),
        (##"{"$ref": "#/$defs/missing"}"##, "$ref"),
        (##"{"$ref": "https://example.com/schema.json"}"##, "$ref"),
        (#"{"type": "integer", "minimum": 5, "maximum": 4}"#, "minimum"),
        (#"{"type": "array", "items": [{"type": "string"}]}"#, "items"),
        (#"{"type": "string", "minLength": 3, "maxLength": 2}"#, "maxLength"),
    ])
    func unsupportedOrInvalidKeywordsAreNamed(schema: String, keyword: String) throws {
        do {
            _ = try schemaGrammar(schema)
            Issue.record("expected an error for \(schema)")
        } catch let error as GrammarError {
            #expect(error.keyword == keyword, "\(error.message)")
            #expect(error.message.contains("'\(keyword)'") || error.message.contains(keyword), "\(error.message)")
        }
    }

    @Test func errorsNameWhereTheKeywordIs() throws {
        do {
            _ = try schemaGrammar(#"{"properties": {"name": {"type": "string", "pattern": "x"}}}"#)
            Issue.record("expected an error")
        } catch let error as GrammarError {
            #expect(error.message.contains("properties.name"), "\(error.message)")
        }
    }

    @Test func falseSchemaIsAnError() {
        #expect(throws: GrammarError.self) { try Grammar(jsonSchema: .bool(false)) }
    }

    @Test func embeddingWithPrefixes() throws {
        let arguments = try JSONSchemaGrammar.gbnf(for: JSONValue.parse(#"{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}"#),
                                                   rootRule: "weather-args", rulePrefix: "weather-")
        let grammar = try Grammar(gbnf: "root ::= " + GBNF.literal("<tool_call>{\"arguments\": ") + " weather-args " + GBNF.literal("}</tool_call>") + "\n" + arguments)
        #expect(accepts(grammar, #"<tool_call>{"arguments": {"city": "Paris"}}</tool_call>"#))
        #expect(!accepts(grammar, #"<tool_call>{"arguments": {}}</tool_call>"#))
    }
}
