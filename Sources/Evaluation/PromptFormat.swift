import Foundation
import Tokenization

/// Turns a task's user message and the start of the answer into prompt token ids.
public protocol PromptFormat: Sendable {
    /// Token ids of the whole prompt: `userMessage` as the user's turn, then `answerPrefix` as the
    /// beginning of the assistant's reply (the model continues it).
    func tokens(userMessage: String, answerPrefix: String) throws -> [Int32]
}

/// The model's own chat template, rendered and tokenized exactly as the server does
/// (`ChatTemplate` + `ChatPrompt`), with the answer prefix after the generation prompt (RULER
/// puts the answer prefix there too).
public struct ChatPromptFormat: PromptFormat {
    public let template: ChatTemplate
    public let tokenizer: any Tokenizer
    /// Templates that print today's date see this fixed day, so prompts depend on the seed only.
    public static let fixedDate = Date(timeIntervalSince1970: 1_735_689_600)  // 2025-01-01

    public init(template: ChatTemplate, tokenizer: any Tokenizer) {
        self.template = template
        self.tokenizer = tokenizer
    }

    public func render(userMessage: String, answerPrefix: String) throws -> String {
        let text = try template.render(
            messages: [.object([("role", .string("user")), ("content", .string(userMessage))])],
            addGenerationPrompt: true, variables: ChatPrompt.variables(for: tokenizer), now: Self.fixedDate)
        return text + answerPrefix
    }

    public func tokens(userMessage: String, answerPrefix: String) throws -> [Int32] {
        ChatPrompt.tokens(rendered: try render(userMessage: userMessage, answerPrefix: answerPrefix), tokenizer: tokenizer)
    }
}
