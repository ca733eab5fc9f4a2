import Engine
import JSON
import Server
import Testing

/// `response_format` (json_object, json_schema) and the `grammar` extension reach the engine as
/// a grammar; what cannot be enforced is a 400 naming it.
@Suite("Output format")
struct OutputFormatTests {
    static let chat = "/v1/chat/completions"
    static func chatBody(_ extra: String) -> String { #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2\#(extra)}"# }

    @Test func formatsAndGrammarsReachTheEngine() {
        let harness = Harness()
        let accepted = [
            #", "response_format": {"type": "json_object"}"#,
            #", "response_format": {"type": "json_schema", "json_schema": {"name": "person", "strict": true, "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}"#,
            #", "response_format": {"type": "json_schema", "json_schema": {"name": "any"}}"#,
            #", "grammar": "root ::= \"yes\" | \"no\"""#,
        ]
        for extra in accepted {
            let response = harness.post(Self.chat, Self.chatBody(extra))
            #expect(response.status == 200, "\(extra)")
            #expect(harness.service.submitted.last?.grammar != nil, "\(extra)")
        }
        #expect(harness.post(Self.chat, Self.chatBody(#", "n": 2, "response_format": {"type": "json_object"}"#)).status == 200)
        #expect(harness.service.submitted.suffix(2).allSatisfy { $0.grammar != nil })

        let completion = harness.post("/v1/completions", #"{"prompt": "Hi", "max_tokens": 2, "grammar": "root ::= [0-9]+"}"#)
        #expect(completion.status == 200)
        #expect(harness.service.submitted.last?.grammar != nil)

        for extra in [#", "response_format": {"type": "text"}"#, ""] {
            #expect(harness.post(Self.chat, Self.chatBody(extra)).status == 200)
            #expect(harness.service.submitted.last?.grammar == nil)
        }
    }

    @Test func badSchemasAndGrammarsAreRefusedByName() {
        let harness = Harness()
        let schemaParam = "response_format.json_schema.schema"
        let cases: [(String, String, String, String)] = [
            (#", "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "string", "pattern": "^a"}}}"#,
             "invalid_value", schemaParam, "'pattern'"),
            (#", "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"properties": {"a": {"not": {}}}}}}"#,
             "invalid_value", schemaParam, "properties.a"),
            (##", "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"$ref": "#/$defs/nope"}}}"##,
             "invalid_value", schemaParam, "points to nothing"),
            (#", "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "integer", "minimum": 3, "maximum": 1}}}"#,
             "invalid_value", schemaParam, "'minimum'"),
            (#", "response_format": {"type": "json_schema"}"#, "missing_required_parameter", "response_format.json_schema", "json_schema"),
            (#", "response_format": {"type": "json_schema", "json_schema": {"schema": {}}}"#, "missing_required_parameter", "response_format.json_schema.name", "name"),
            (#", "response_format": {"type": "json_schema", "json_schema": {"name": "has space"}}"#, "invalid_value", "response_format.json_schema.name", "letters"),
            (#", "response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": "yes"}}"#, "invalid_type", "response_format.json_schema.strict", "boolean"),
            (#", "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": 5}}"#, "invalid_value", schemaParam, "object or a boolean"),
            (#", "response_format": {"type": "xml"}"#, "invalid_value", "response_format.type", "json_schema"),
            (#", "response_format": "json""#, "invalid_type", "response_format", "object"),
            (#", "grammar": "root ::= undefined-rule""#, "invalid_value", "grammar", "undefined rule 'undefined-rule'"),
            (#", "grammar": "root ::= root \"x\"""#, "invalid_value", "grammar", "left-recursive"),
            (#", "grammar": 5"#, "invalid_type", "grammar", "GBNF"),
            (#", "grammar": "root ::= \"a\"", "response_format": {"type": "json_object"}"#, "invalid_value", "grammar", "cannot be combined"),
        ]
        for (extra, code, param, fragment) in cases {
            let response = harness.post(Self.chat, Self.chatBody(extra))
            expectError(response, status: 400, code: code, param: .some(param))
            let message = bodyJSON(response)["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains(fragment), "\(extra): \(message)")
        }
        expectError(harness.post("/v1/completions", #"{"prompt": "Hi", "grammar": "root ::= ("}"#), status: 400, code: "invalid_value", param: "grammar")
        #expect(harness.service.submitted.isEmpty)
    }
}
