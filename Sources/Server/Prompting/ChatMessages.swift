import JSON
import Tokenization

/// Validates `messages` and turns them into the values a chat template receives.
///
/// Roles are system, developer (rendered as system, as OpenAI's newer clients send it), user,
/// assistant and tool. `content` is a string or an array of text parts, joined with "\n";
/// assistant messages may have `content: null` (e.g. with `tool_calls`). `name` is passed through.
/// Assistant `tool_calls` are checked (an `id`, a function `name`, `arguments` a JSON object
/// text) and reach the template with `arguments` parsed into an object, as transformers expects;
/// a `tool` message needs a `tool_call_id` naming a call of an earlier assistant message.
enum ChatMessages {
    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    static func templateValues(_ fields: JSONFields) throws(APIError) -> [TemplateValue] {
        try APIError.validating {
            let messages = try fields.requiredArray("messages")
            guard !messages.isEmpty else {
                throw APIError.invalidValue("messages", "Invalid value for 'messages': the conversation is empty; send at least one message.")
            }
            var values: [TemplateValue] = []
            values.reserveCapacity(messages.count)
            var callIDs: Set<String> = []
            for index in messages.indices {
                values.append(try message(fields.element("messages", index, of: messages), callIDs: &callIDs))
            }
            return values
        }
    }

    private static func message(_ message: JSONFields, callIDs: inout Set<String>) throws -> TemplateValue {
        let role = try message.requiredString("role")
        guard roles.contains(role) else {
            throw APIError.invalidValue(message.name("role"),
                                        "Invalid value for '\(message.name("role"))': '\(role)' is not a role; use system, user, assistant or tool.")
        }
        var entries: [(String, TemplateValue)] = [("role", .string(role == "developer" ? "system" : role))]
        let content: TemplateValue
        if let value = message.value("content") {
            content = .string(try text(of: value, at: message.name("content")))
        } else if role == "assistant" {
            content = .null
        } else {
            throw JSONFieldError.missing(message.name("content"))
        }
        entries.append(("content", content))
        if let name = try message.string("name") { entries.append(("name", .string(name))) }
        if role == "tool" {
            let id = try message.requiredString("tool_call_id")
            guard callIDs.contains(id) else {
                throw APIError.invalidValue(message.name("tool_call_id"),
                                            "Invalid value for '\(message.name("tool_call_id"))': '\(id)' matches no 'tool_calls' id of an earlier assistant message; a tool result answers a call.")
            }
            entries.append(("tool_call_id", .string(id)))
        }
        if let toolCalls = try message.array("tool_calls") {
            guard role == "assistant" else {
                throw APIError.invalidValue(message.name("tool_calls"),
                                            "Invalid value for '\(message.name("tool_calls"))': only assistant messages carry tool calls.")
            }
            var calls: [TemplateValue] = []
            for index in toolCalls.indices {
                let call = try toolCall(message.element("tool_calls", index, of: toolCalls))
                callIDs.insert(call.id)
                calls.append(call.value)
            }
            if !calls.isEmpty { entries.append(("tool_calls", .array(calls))) }
        }
        return .object(entries)
    }

    /// `{"id", "type": "function", "function": {"name", "arguments"}}` with `arguments` a JSON
    /// object as text (OpenAI's form) or as an object; the template gets the object.
    private static func toolCall(_ call: JSONFields) throws -> (id: String, value: TemplateValue) {
        let id = try call.requiredString("id")
        if let type = try call.string("type"), type != "function" {
            throw APIError.invalidValue(call.name("type"), "Invalid value for '\(call.name("type"))': '\(type)'; use 'function'.")
        }
        guard let function = try call.fields("function") else { throw JSONFieldError.missing(call.name("function")) }
        let name = try function.requiredString("name")
        let arguments = try function.required("arguments")
        let parsed: JSONValue
        switch arguments {
        case .string(let text):
            guard let value = try? JSONValue.parse(text), case .object = value else {
                throw APIError.invalidValue(function.name("arguments"),
                                            "Invalid value for '\(function.name("arguments"))': the arguments must be a JSON object encoded as a string, like \"{\\\"city\\\": \\\"Paris\\\"}\".")
            }
            parsed = value
        case .object:
            parsed = arguments
        default:
            throw JSONFieldError.invalidType(function.name("arguments"), expected: "a string of JSON", got: arguments)
        }
        let value: TemplateValue = .object([
            ("id", .string(id)), ("type", "function"),
            ("function", .object([("name", .string(name)), ("arguments", templateValue(parsed))])),
        ])
        return (id, value)
    }

    /// A string, or an array of `{"type": "text", "text": …}` parts joined with "\n".
    private static func text(of value: JSONValue, at path: String) throws -> String {
        switch value {
        case .string(let text):
            return text
        case .array(let parts):
            var texts: [String] = []
            for index in parts.indices {
                let partPath = "\(path)[\(index)]"
                guard case .object(let object) = parts[index] else {
                    throw JSONFieldError.invalidType(partPath, expected: "an object", got: parts[index])
                }
                let part = JSONFields(object, path: partPath)
                let type = try part.requiredString("type")
                switch type {
                case "text":
                    texts.append(try part.requiredString("text"))
                case "image_url", "input_audio", "file", "image", "audio", "video":
                    throw APIError.unsupported(part.name("type"),
                                               "Content parts of type '\(type)' are not supported: this server's models take text only.")
                default:
                    throw APIError.invalidValue(part.name("type"),
                                                "Invalid value for '\(part.name("type"))': '\(type)' is not a content part type; use 'text'.")
                }
            }
            return texts.joined(separator: "\n")
        default:
            throw JSONFieldError.invalidType(path, expected: "a string or an array of content parts", got: value)
        }
    }

    static func templateValue(_ value: JSONValue) -> TemplateValue {
        switch value {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(number)
        case .double(let number): return .double(number)
        case .string(let text): return .string(text)
        case .array(let elements): return .array(elements.map(templateValue))
        case .object(let object): return .object(object.entries.map { ($0.key, templateValue($0.value)) })
        }
    }
}
