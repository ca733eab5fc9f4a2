import Foundation
import Tokenization

/// One message of a conversation a task sends.
public struct ChatTurn: Sendable, Equatable {
    public enum Role: String, Sendable { case user, assistant }
    public var role: Role
    public var content: String

    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }
}

/// Turns a task's conversation and the start of the answer into prompt token ids.
public protocol PromptFormat: Sendable {
    /// Token ids of the whole prompt: the `turns`, then `answerPrefix` as the beginning of the
    /// assistant's reply (the model continues it).
    func tokens(turns: [ChatTurn], answerPrefix: String) throws -> [Int32]
}

extension PromptFormat {
    /// One user message, then `answerPrefix` as the beginning of the assistant's reply.
    public func tokens(userMessage: String, answerPrefix: String) throws -> [Int32] {
        try tokens(turns: [ChatTurn(.user, userMessage)], answerPrefix: answerPrefix)
    }
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

    public func render(turns: [ChatTurn], answerPrefix: String) throws -> String {
        let text = try template.render(
            messages: turns.map { .object([("role", .string($0.role.rawValue)), ("content", .string($0.content))]) },
            addGenerationPrompt: true, variables: ChatPrompt.variables(for: tokenizer), now: Self.fixedDate)
        return text + answerPrefix
    }

    public func tokens(turns: [ChatTurn], answerPrefix: String) throws -> [Int32] {
        ChatPrompt.tokens(rendered: try render(turns: turns, answerPrefix: answerPrefix), tokenizer: tokenizer)
    }
}
