import Engine
import Foundation
import Server
import Tokenization

/// ChatML written out in Swift, standing in for the Jinja template in tests; remembers the
/// variables it was given.
final class SimpleChatRenderer: ChatPromptRenderer, @unchecked Sendable {
    private let lock = NSLock()
    private var lastVariables: [String: TemplateValue] = [:]
    private var lastMessages: [TemplateValue] = []
    private var lastTools: [TemplateValue]? = nil

    var variables: [String: TemplateValue] { lock.withLock { lastVariables } }
    var messages: [TemplateValue] { lock.withLock { lastMessages } }
    var tools: [TemplateValue]? { lock.withLock { lastTools } }

    func render(messages: [TemplateValue], tools: [TemplateValue]?, variables: [String: TemplateValue],
                service: any GenerationService) throws(ChatTemplateError) -> String {
        lock.withLock { lastVariables = variables; lastMessages = messages; lastTools = tools }
        var text = ""
        if let tools {
            // The tools as one pseudo-message, so the fake engine can see them (`FakeScript.toolCaller`).
            text += "<|im_start|>tools\n" + tools.map(\.pythonJSON).joined(separator: "\n") + "<|im_end|>\n"
        }
        for message in messages {
            guard case .object(let entries) = message else { throw ChatTemplateError("message is not an object") }
            let role = entries.first { $0.0 == "role" }?.1
            let content = entries.first { $0.0 == "content" }?.1
            guard case .string(let roleText)? = role else { throw ChatTemplateError("no role") }
            var contentText = ""
            if case .string(let value)? = content { contentText = value }
            if contentText.contains("RAISE_TEMPLATE_ERROR") { throw ChatTemplateError("Conversation roles must alternate") }
            text += "<|im_start|>\(roleText)\n\(contentText)<|im_end|>\n"
        }
        return text + "<|im_start|>assistant\n"
    }
}
