import Grammar
import JSON

/// The grammar a request constrains its output to:
///
/// - chat's `response_format`: `{"type": "text"}` (none), `{"type": "json_object"}` (any JSON
///   object), `{"type": "json_schema", "json_schema": {"name", "schema", "strict", "description"}}`
///   (JSON valid under the schema; `strict` may be true or false, the schema is enforced either
///   way; a missing `schema` allows any JSON value);
/// - the `grammar` extension (both endpoints, as in llama.cpp's server): GBNF text.
///
/// A schema or grammar the engine cannot enforce is a 400 naming the keyword or the position,
/// never an unconstrained output.
enum OutputFormat {
    static func grammar(_ fields: JSONFields, readsResponseFormat: Bool) throws(APIError) -> Grammar? {
        let responseFormat = readsResponseFormat ? try responseFormatGrammar(fields) : nil
        guard let value = fields.value("grammar"), !value.isNull else { return responseFormat }
        guard case .string(let text) = value else {
            throw .field(.invalidType(fields.name("grammar"), expected: "a string (GBNF grammar text)", got: value))
        }
        if responseFormat != nil {
            throw .invalidValue("grammar", "Invalid value for 'grammar': it cannot be combined with a JSON 'response_format'; send one of them.")
        }
        do {
            return try Grammar(gbnf: text)
        } catch {
            throw .invalidValue("grammar", "Invalid value for 'grammar': \(error.message).")
        }
    }

    private static func responseFormatGrammar(_ fields: JSONFields) throws(APIError) -> Grammar? {
        guard let format = fields.value("response_format"), !format.isNull else { return nil }
        guard case .object(let object) = format else {
            throw .field(.invalidType("response_format", expected: "an object", got: format))
        }
        switch object["type"] {
        case .string("text")?:
            return nil
        case .string("json_object")?:
            return Grammar.anyJSONObject
        case .string("json_schema")?:
            return try schemaGrammar(object["json_schema"])
        case let other?:
            throw .invalidValue("response_format.type",
                                "Invalid value for 'response_format.type': \(other.jsonText); expected 'text', 'json_object' or 'json_schema'.")
        case nil:
            throw .field(.missing("response_format.type"))
        }
    }

    private static func schemaGrammar(_ value: JSONValue?) throws(APIError) -> Grammar {
        let param = "response_format.json_schema"
        guard let value else { throw .field(.missing(param)) }
        guard case .object(let object) = value else {
            throw .field(.invalidType(param, expected: "an object", got: value))
        }
        guard let name = object["name"] else { throw .field(.missing(param + ".name")) }
        guard case .string(let text) = name, !text.isEmpty, text.count <= 64,
              text.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }) else {
            throw .invalidValue(param + ".name", "Invalid value for '\(param).name': expected 1 to 64 letters, digits, '_' or '-'.")
        }
        if let strict = object["strict"], !strict.isNull, strict.boolValue == nil {
            throw .field(.invalidType(param + ".strict", expected: "a boolean", got: strict))
        }
        let schema = object["schema"] ?? .bool(true)
        do {
            return try Grammar(jsonSchema: schema)
        } catch {
            throw .invalidValue(param + ".schema", "Invalid value for '\(param).schema': \(error.message).")
        }
    }
}
