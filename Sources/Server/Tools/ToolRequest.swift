import JSON
import Tokenization

/// One function a request offers the model (`tools[i]` with `type: "function"`).
public struct FunctionTool: Sendable, Equatable {
    public var name: String
    /// The JSON schema of the arguments object: `parameters` as sent, or
    /// `{"type": "object", "properties": {}}` when the tool has none.
    public var parameters: JSONValue
    /// The tool exactly as the client sent it, for the chat template (templates print it with
    /// `tojson`, so key order and every field matter).
    public var definition: JSONValue
}

/// Whether and how the model may call tools (`tool_choice`).
public enum ToolChoice: Sendable, Equatable {
    /// Tools are still shown to the model, but its output is plain text (never parsed).
    case none
    /// The model decides; tool-call syntax in its output becomes `tool_calls`.
    case auto
    /// At least one call (constrained to the tools' schemas).
    case required
    /// Exactly this function (constrained to its schema).
    case function(String)
}

/// The tool part of a chat request: `tools`, `tool_choice`, `parallel_tool_calls`, validated.
public struct ToolRequest: Sendable, Equatable {
    public var tools: [FunctionTool]
    public var choice: ToolChoice
    /// false: at most one call per answer (later calls are dropped).
    public var parallelCalls: Bool

    /// No tools: the output is never parsed for calls.
    public static let none = ToolRequest(tools: [], choice: .none, parallelCalls: true)

    /// Tool calls are parsed from the output only when tools exist and `tool_choice` allows them.
    public var parsesCalls: Bool { !tools.isEmpty && choice != .none }

    /// The tool definitions handed to the chat template (nil when there are none).
    public var templateTools: [TemplateValue]? {
        tools.isEmpty ? nil : tools.map { ChatMessages.templateValue($0.definition) }
    }

    /// OpenAI's rule for function names.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy(StreamingCallHeader.isNameByte)
    }

    /// Reads and validates the request's tool fields; every problem is a 400 naming the field.
    public init(_ fields: JSONFields) throws(APIError) {
        self = try APIError.validating { try ToolRequest(validating: fields) }
    }

    init(tools: [FunctionTool], choice: ToolChoice, parallelCalls: Bool) {
        self.tools = tools; self.choice = choice; self.parallelCalls = parallelCalls
    }

    private init(validating fields: JSONFields) throws {
        var tools: [FunctionTool] = []
        let elements = try fields.array("tools") ?? []
        for index in elements.indices {
            let tool = try fields.element("tools", index, of: elements)
            tools.append(try Self.function(tool, definition: elements[index]))
            if let earlier = tools.dropLast().firstIndex(where: { $0.name == tools[index].name }) {
                throw APIError.invalidValue("\(tool.path).function.name",
                                            "Invalid value for '\(tool.path).function.name': '\(tools[index].name)' is already the name of tools[\(earlier)]; function names must be unique.")
            }
        }
        self.tools = tools
        self.parallelCalls = try fields.bool("parallel_tool_calls") ?? true
        self.choice = try Self.choice(fields, toolNames: tools.map(\.name))
    }

    private static func function(_ tool: JSONFields, definition: JSONValue) throws -> FunctionTool {
        let type = try tool.requiredString("type")
        guard type == "function" else {
            throw APIError.invalidValue(tool.name("type"),
                                        "Invalid value for '\(tool.name("type"))': '\(type)' is not a tool type this server knows; use 'function'.")
        }
        guard let function = try tool.fields("function") else { throw JSONFieldError.missing(tool.name("function")) }
        let name = try function.requiredString("name")
        guard isValidName(name) else {
            throw APIError.invalidValue(function.name("name"),
                                        "Invalid value for '\(function.name("name"))': '\(name)' is not a function name; use 1 to 64 letters, digits, '_' or '-'.")
        }
        _ = try function.string("description")
        _ = try function.bool("strict")
        let parameters: JSONValue
        if let schema = function.value("parameters") {
            guard case .object(let object) = schema else {
                throw JSONFieldError.invalidType(function.name("parameters"), expected: "a JSON schema object", got: schema)
            }
            if let schemaType = object["type"], schemaType != "object" {
                throw APIError.invalidValue(function.name("parameters.type"),
                                            "Invalid value for '\(function.name("parameters.type"))': \(schemaType.jsonText); function parameters must be an object schema ({\"type\": \"object\", …}).")
            }
            if let properties = object["properties"], properties.objectValue == nil {
                throw JSONFieldError.invalidType(function.name("parameters.properties"), expected: "an object", got: properties)
            }
            parameters = schema
        } else {
            parameters = ["type": "object", "properties": [:]]
        }
        return FunctionTool(name: name, parameters: parameters, definition: definition)
    }

    private static func choice(_ fields: JSONFields, toolNames: [String]) throws -> ToolChoice {
        guard let value = fields.value("tool_choice") else { return toolNames.isEmpty ? .none : .auto }
        let choice: ToolChoice
        switch value {
        case .string("none"): return .none
        case .string("auto"): return toolNames.isEmpty ? .none : .auto
        case .string("required"): choice = .required
        case .string(let other):
            throw APIError.invalidValue("tool_choice",
                                        "Invalid value for 'tool_choice': '\(other)'; use 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": {\"name\": …}}.")
        case .object(let object):
            let named = JSONFields(object, path: "tool_choice")
            let type = try named.requiredString("type")
            guard type == "function" else {
                throw APIError.invalidValue("tool_choice.type", "Invalid value for 'tool_choice.type': '\(type)'; use 'function'.")
            }
            guard let function = try named.fields("function") else { throw JSONFieldError.missing("tool_choice.function") }
            let name = try function.requiredString("name")
            guard toolNames.isEmpty || toolNames.contains(name) else {
                throw APIError.invalidValue("tool_choice.function.name",
                                            "Invalid value for 'tool_choice.function.name': no tool is named '\(name)'; the request's tools are \(toolNames.map { "'\($0)'" }.joined(separator: ", ")).")
            }
            choice = .function(name)
        default:
            throw JSONFieldError.invalidType("tool_choice", expected: "a string or an object", got: value)
        }
        guard !toolNames.isEmpty else {
            throw APIError.invalidValue("tool_choice", "Invalid value for 'tool_choice': it requires 'tools'; send the functions the model may call.")
        }
        return choice
    }
}
