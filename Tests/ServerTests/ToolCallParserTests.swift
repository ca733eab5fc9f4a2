import JSON
@testable import Server
import Testing

@Suite("Tool-call output parsing")
struct ToolCallParserTests {
    typealias Call = ToolCallTranscript.Call

    /// Feeds `text` in pieces of `size` characters and folds the events.
    static func parse(_ text: String, pieceSize: Int, parallelCalls: Bool = true) -> (ToolCallTranscript, [ToolCallEvent]) {
        var parser = ToolCallParser(parallelCalls: parallelCalls)
        var events: [ToolCallEvent] = []
        var piece = ""
        for character in text {
            piece.append(character)
            if piece.count == pieceSize {
                events += parser.push(piece)
                piece = ""
            }
        }
        events += parser.push(piece)
        events += parser.finish()
        var transcript = ToolCallTranscript()
        transcript.apply(events)
        return (transcript, events)
    }

    /// The fold of every piece size equals the whole-text parse (the streamed answer equals the
    /// non-streamed one), and is returned.
    static func parsed(_ text: String, parallelCalls: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) -> ToolCallTranscript {
        let whole = ToolCallTranscript.parse(text, parallelCalls: parallelCalls)
        for size in [1, 2, 3, 5, 7, 13, 1000] {
            let (pieces, events) = parse(text, pieceSize: size, parallelCalls: parallelCalls)
            #expect(pieces == whole, "piece size \(size)", sourceLocation: sourceLocation)
            for event in events {
                if case .content(let text) = event {
                    #expect(!text.isEmpty, sourceLocation: sourceLocation)
                    #expect(!text.contains("<tool_call>") || whole.calls.isEmpty || text.contains("</tool_call>"),
                            "markup of a call leaked: \(text)", sourceLocation: sourceLocation)
                }
            }
        }
        return whole
    }

    @Test func plainTextPassesThroughUnchanged() {
        for text in ["Hello, world!", "  padded \n\n", "a < b and c <tool but not a call", "ends with <tool_ca", "", "日本語 ✓ <"] {
            let transcript = Self.parsed(text)
            #expect(transcript.content == text)
            #expect(transcript.calls.isEmpty)
        }
    }

    @Test func oneCallInQwenForm() {
        let transcript = Self.parsed("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}\n</tool_call>")
        #expect(transcript.content == "")
        #expect(transcript.calls == [Call(name: "get_weather", arguments: "{\"city\": \"Paris\", \"days\": 3}")])
    }

    @Test func severalCallsWithTextAroundThem() {
        let text = """
            Let me look both up.
            <tool_call>
            {"name": "get_weather", "arguments": {"city": "Paris"}}
            </tool_call>
            <tool_call>
            {"name":"get_weather","arguments":{"city":"Tōkyō {x}", "note": "a \\"}\\" b"}}
            </tool_call>
            Done.
            """
        let transcript = Self.parsed(text)
        #expect(transcript.content == "Let me look both up.Done.")
        #expect(transcript.calls == [Call(name: "get_weather", arguments: #"{"city": "Paris"}"#),
                                     Call(name: "get_weather", arguments: #"{"city":"Tōkyō {x}", "note": "a \"}\" b"}"#)])
    }

    @Test func argumentsStreamAsTheyArrive() {
        var parser = ToolCallParser()
        #expect(parser.push("Sure.\n<tool_") == [.content("Sure.")])
        #expect(parser.push("call>\n{\"name\": \"f\", ") == [])
        #expect(parser.push("\"arguments\": {\"a\"") == [.callStarted(index: 0, name: "f"), .arguments(index: 0, "{\"a\"")])
        #expect(parser.push(": [1, 2]</") == [.arguments(index: 0, ": [1, 2]")])
        #expect(parser.push("x}}\n</tool_call>") == [.arguments(index: 0, "</x}")])
        #expect(parser.finish() == [])
    }

    @Test func nestedObjectsAndBracesInStrings() {
        let transcript = Self.parsed(#"<tool_call>{"name": "q", "arguments": {"o": {"p": [{"q": "}]"}]}, "e": "\\"}}</tool_call>"#)
        #expect(transcript.calls == [Call(name: "q", arguments: #"{"o": {"p": [{"q": "}]"}]}, "e": "\\"}"#)])
    }

    @Test func otherKeyOrderIsParsedWhole() {
        let transcript = Self.parsed("<tool_call>\n{\"arguments\": {\"x\": 1}, \"name\": \"f\"}\n</tool_call>")
        #expect(transcript.calls == [Call(name: "f", arguments: #"{"x":1}"#)])
        let stringArguments = Self.parsed(#"<tool_call>{"name": "f", "arguments": "{\"x\": 1}"}</tool_call>"#)
        #expect(stringArguments.calls == [Call(name: "f", arguments: #"{"x": 1}"#)])
    }

    @Test func malformedCallsAreContent() {
        for body in ["not json", #"{"name": "f"}"#, #"{"name": 3, "arguments": {}}"#, #"{"name": "f", "arguments": [1]}"#,
                     #"{"name": "a<b", "arguments": {}}"#] {
            let text = "before <tool_call>\(body)</tool_call> after"
            let transcript = Self.parsed(text)
            #expect(transcript.calls.isEmpty, "\(body)")
            #expect(transcript.content == text, "\(body)")
        }
    }

    @Test func unfinishedCalls() {
        // Cut inside the arguments: the call is kept with what was written.
        var transcript = Self.parsed(#"<tool_call>{"name": "f", "arguments": {"city": "Par"#)
        #expect(transcript.calls == [Call(name: "f", arguments: #"{"city": "Par"#)])
        // Arguments closed, closing tag missing: a complete call.
        transcript = Self.parsed("<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool")
        #expect(transcript.calls == [Call(name: "f", arguments: "{}")])
        // Cut before the name is known: the text is returned.
        transcript = Self.parsed("Hi <tool_call>\n{\"na")
        #expect(transcript.calls.isEmpty)
        #expect(transcript.content == "Hi <tool_call>\n{\"na")
        // A closing tag inside unbalanced arguments ends the call.
        transcript = Self.parsed(#"<tool_call>{"name": "f", "arguments": {"a": 1</tool_call>tail"#)
        #expect(transcript.calls == [Call(name: "f", arguments: #"{"a": 1"#)])
        #expect(transcript.content == "tail")
    }

    @Test func withoutParallelCallsOnlyTheFirstCounts() {
        let text = "<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call>\n<tool_call>{\"name\": \"b\", \"arguments\": {}}</tool_call> bye"
        #expect(Self.parsed(text, parallelCalls: false).calls == [Call(name: "a", arguments: "{}")])
        #expect(Self.parsed(text, parallelCalls: false).content == "")
        #expect(Self.parsed(text).calls.map(\.name) == ["a", "b"])
        #expect(Self.parsed(text).content == "bye")
    }

    @Test func headerMatching() {
        #expect(StreamingCallHeader.match(Array(#" { "name" : "x_1" , "arguments" : {"#.utf8)) == .matched(name: "x_1", argumentsStart: 34))
        #expect(StreamingCallHeader.match(Array(#"{"name": "x", "argum"#.utf8)) == .needMore)
        #expect(StreamingCallHeader.match(Array(#"{"nam"#.utf8)) == .needMore)
        #expect(StreamingCallHeader.match(Array(#"{"arguments""#.utf8)) == .mismatch)
        #expect(StreamingCallHeader.match(Array(#"{"name": "x", "arguments": "{}"}"#.utf8)) == .mismatch)
        #expect(StreamingCallHeader.match(Array(#"{"name": "", "arguments": {"#.utf8)) == .mismatch)
    }
}
