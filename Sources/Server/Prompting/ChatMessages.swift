import JSON
import Tokenization

/// Validates `messages` and turns them into the values a chat template receives.
///
/// Roles are system, developer (rendered as system, as OpenAI's newer clients send it), user,
/// assistant and tool. `content` is a string or an array of text parts, joined with "\n";
/// assistant messages may have `content: null` (e.g. with `tool_calls`). `name`, `tool_calls` and
/// `tool_call_id` are passed through to the template unchanged.
enum ChatMessages {
    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    static func templateValues(_ fields: JSONFields) throws(APIError) -> [TemplateValue] {
        do {
            let messages = try fields.requiredArray("messages")
            guard !messages.isEmpty else {
                throw APIError.invalidValue("messages", "Invalid value for 'messages': the conversation is empty; send at least one message.")
            }
            var values: [TemplateValue] = []
            values.reserveCapacity(messages.count)
            for index in messages.indices {
                values.append(try message(fields.element("messages", index, of: messages)))
            }
            return values
        } catch let error as JSONFieldError {
            throw .field(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw .internalError("\(error)")
        }
    }

    private static func message(_ message: JSONFields) throws -> TemplateValue {
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
        for key in ["name", "tool_call_id"] {
            if let value = try message.string(key) { entries.append((key, .string(value))) }
        }
        if let toolCalls = message.value("tool_calls") {
            guard case .array = toolCalls else {
                throw JSONFieldError.invalidType(message.name("tool_calls"), expected: "an array", got: toolCalls)
            }
            entries.append(("tool_calls", templateValue(toolCalls)))
        }
        return .object(entries)
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
