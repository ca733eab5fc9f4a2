import Grammar
import JSON
@testable import Server
import Testing

@Suite("Tool-call grammar")
struct ToolCallGrammarTests {
    /// Every byte is a token: the matcher then accepts exactly the grammar's language.
    static let byteTrie = TokenTrie(vocabularySize: 257) { token in token < 256 ? [UInt8(token)] : nil }

    static func request(_ extra: String) throws -> ToolRequest {
        let body = try JSONValue.parse(#"""
            {"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
                          "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
                          "required": ["city"]}}},
                       {"type": "function", "function": {"name": "now"}}]\#(extra)}
            """#)
        return try ToolRequest(JSONFields.body(body))
    }

    /// Whether the grammar accepts `text` as a whole output.
    static func accepts(_ grammar: Grammar, _ text: String) -> Bool {
        let matcher = GrammarMatcher(grammar: grammar, trie: byteTrie, endOfGenerationTokens: [256])
        return matcher.accept(bytes: Array(text.utf8)) && matcher.isComplete
    }

    static let weather = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}\n</tool_call>"
    static let now = "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>"

    @Test func requiredAcceptsCallsOfAnyToolValidUnderItsSchema() throws {
        let grammar = try #require(try ToolCallGrammar.grammar(for: Self.request(#", "tool_choice": "required""#)))
        #expect(Self.accepts(grammar, Self.weather))
        #expect(Self.accepts(grammar, Self.now))
        #expect(Self.accepts(grammar, Self.weather + "\n" + Self.now))
        #expect(!Self.accepts(grammar, "Sure! " + Self.weather))
        #expect(!Self.accepts(grammar, Self.weather.replacingOccurrences(of: "\"days\": 3", with: "\"days\": 9")))
        #expect(!Self.accepts(grammar, Self.weather.replacingOccurrences(of: "get_weather", with: "get_time")))
        #expect(!Self.accepts(grammar, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"days\": 3}}\n</tool_call>"))
        // What the grammar accepts, the parser reads as the same calls.
        let transcript = ToolCallTranscript.parse(Self.weather + "\n" + Self.now, parallelCalls: true)
        #expect(transcript.content == "" && transcript.calls.map(\.name) == ["get_weather", "now"])
        #expect(transcript.calls[0].arguments == #"{"city": "Paris", "days": 3}"#)
    }

    @Test func namedFunctionAndNoParallelCalls() throws {
        let named = try #require(try ToolCallGrammar.grammar(for: Self.request(#", "tool_choice": {"type": "function", "function": {"name": "now"}}"#)))
        #expect(Self.accepts(named, Self.now))
        #expect(Self.accepts(named, Self.now + "\n" + Self.now))
        #expect(!Self.accepts(named, Self.weather))
        let single = try #require(try ToolCallGrammar.grammar(for: Self.request(#", "tool_choice": "required", "parallel_tool_calls": false"#)))
        #expect(Self.accepts(single, Self.weather))
        #expect(!Self.accepts(single, Self.weather + "\n" + Self.now))
    }

    @Test func autoAndNoneAreUnconstrained() throws {
        #expect(try ToolCallGrammar.grammar(for: Self.request("")) == nil)
        #expect(try ToolCallGrammar.grammar(for: Self.request(#", "tool_choice": "none""#)) == nil)
    }

    @Test func anUnenforceableSchemaIsA400NamingTheTool() throws {
        let body = try JSONValue.parse(#"""
            {"tools": [{"type": "function", "function": {"name": "a"}},
                       {"type": "function", "function": {"name": "b", "parameters": {"type": "object", "properties": {"s": {"type": "string", "pattern": "^x+$"}}}}}],
             "tool_choice": "required"}
            """#)
        let request = try ToolRequest(JSONFields.body(body))
        #expect {
            _ = try ToolCallGrammar.grammar(for: request)
        } throws: { error in
            guard let error = error as? APIError else { return false }
            return error.status == 400 && error.param == "tools[1].function.parameters" && error.message.contains("pattern")
        }
        // Unconstrained choices do not compile the schemas, so `auto` accepts the same tools.
        var auto = request
        auto.choice = .auto
        #expect(try ToolCallGrammar.grammar(for: auto) == nil)
    }
}
