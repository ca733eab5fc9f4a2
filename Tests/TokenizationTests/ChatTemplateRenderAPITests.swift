import Foundation
import Testing
import Tokenization

// The public rendering API: what templates see (transformers' message normalization, `tools`,
// `documents`, special tokens), `strftime_now`, JSON input, sharing one template across threads.

@Suite("Chat template render API")
struct ChatTemplateRenderAPITests {
    @Test func messagesAreNormalizedLikeTransformers() throws {
        let template = try ChatTemplate(source: "{% for m in messages %}{{ m }}\n{% endfor %}")
        let messages: [TemplateValue] = [
            ["role": "assistant", "content": nil, "tool_calls": [["id": "c1", "type": "function"]]],
            ["role": "assistant", "content": "x", "reasoning_content": "why"],
            ["role": "assistant", "content": "y", "thinking": "t", "reasoning": "r"],
        ]
        let output = try template.render(messages: messages, addGenerationPrompt: false)
        #expect(output == """
            {'role': 'assistant', 'tool_calls': [{'id': 'c1', 'type': 'function'}]}
            {'thinking': 'why', 'role': 'assistant', 'content': 'x', 'reasoning_content': 'why'}
            {'thinking': 't', 'role': 'assistant', 'content': 'y', 'reasoning': 'r', 'reasoning_content': 't'}

            """)
    }

    @Test func globalsTemplatesSee() throws {
        let template = try ChatTemplate(source:
            "{{ tools is defined }} {{ tools }} {{ documents }} {{ add_generation_prompt }} {{ bos_token }} {{ enable_thinking is defined }}|{{ tools|length if tools else 0 }}")
        #expect(try template.render(messages: [], addGenerationPrompt: true, variables: ["bos_token": "<s>"])
            == "True None None True <s> False|0")
        let tools: [TemplateValue] = [["type": "function", "function": ["name": "f"]]]
        #expect(try template.render(messages: [], tools: tools, addGenerationPrompt: false, variables: ["bos_token": "<s>"])
            == "True [{'type': 'function', 'function': {'name': 'f'}}] None False <s> False|1")
    }

    @Test func strftimeNowFormatsTheGivenLocalTime() throws {
        let template = try ChatTemplate(source: "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j') }}")
        let date = try #require(Calendar.current.date(from: DateComponents(year: 2024, month: 7, day: 6, hour: 9, minute: 5, second: 3)))
        #expect(try template.render(messages: [], addGenerationPrompt: false, now: date)
            == "06 Jul 2024|2024-07-06 09:05:03 Saturday July 188")
    }

    @Test func jsonInputKeepsOrderAndNumberKinds() throws {
        let value = try TemplateValue(json: #"{"b": 1, "a": 1.0, "c": [true, null, "\u00e9\ud83d\ude00", -2.5e3, 12345678901234]}"#)
        let template = try ChatTemplate(source: "{{ v|tojson }}|{{ v }}")
        #expect(try template.render(messages: [], addGenerationPrompt: false, variables: ["v": value])
            == #"{"b": 1, "a": 1.0, "c": [true, null, "é😀", -2500.0, 12345678901234]}|{'b': 1, 'a': 1.0, 'c': [True, None, 'é😀', -2500.0, 12345678901234]}"#)
        #expect(throws: ChatTemplateError.self) { try TemplateValue(json: #"{"a": }"#) }
        #expect(throws: ChatTemplateError.self) { try TemplateValue(json: "[1, 2] extra") }
        #expect(try TemplateValue(json: #"{"k": 1, "k": 2}"#) == ["k": 2])
    }

    @Test func toolCallArgumentsAsObjectOrString() throws {
        // transformers expects `arguments` as a dict; an OpenAI JSON string renders as a string.
        let template = try ChatTemplate(source: "{% for c in messages[0].tool_calls %}{{ c.function.arguments|tojson }}{% endfor %}")
        let arguments = try TemplateValue(json: #"{"city": "Paris", "days": 2}"#)
        let asObject: TemplateValue = ["role": "assistant", "tool_calls": [["function": ["name": "w", "arguments": arguments]]]]
        let asString: TemplateValue = ["role": "assistant", "tool_calls": [["function": ["name": "w", "arguments": #"{"city": "Paris"}"#]]]]
        #expect(try template.render(messages: [asObject], addGenerationPrompt: false) == #"{"city": "Paris", "days": 2}"#)
        #expect(try template.render(messages: [asString], addGenerationPrompt: false) == #""{\"city\": \"Paris\"}""#)
    }

    @Test func oneTemplateRendersConcurrently() async throws {
        let template = try ChatTemplate(source: """
            {%- set ns = namespace(count=0) %}{% for m in messages %}{% set ns.count = ns.count + 1 %}\
            <|{{ m.role }}|>{{ m.content }}{% endfor %}#{{ ns.count }}
            """)
        let outputs = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<32 {
                group.addTask {
                    let messages: [TemplateValue] = (0...i).map { ["role": "user", "content": .string("m\($0)")] }
                    return (i, try template.render(messages: messages, addGenerationPrompt: false))
                }
            }
            var results: [Int: String] = [:]
            for try await (i, text) in group { results[i] = text }
            return results
        }
        for (i, text) in outputs {
            let expected = (0...i).map { "<|user|>m\($0)" }.joined() + "#\(i + 1)"
            #expect(text == expected)
        }
    }
}
