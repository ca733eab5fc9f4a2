/// What can stop an evaluation, with a message a user can act on.
public enum EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The real-text corpus is missing or empty.
    case corpusUnavailable(path: String, reason: String)
    /// A requested context does not fit the model or the prompt scaffolding.
    case contextTooLong(requested: Int, modelContext: Int)
    case contextTooShort(requested: Int, minimum: Int)
    /// The real text has fewer tokens than one window of the requested context.
    case textTooShort(tokens: Int, context: Int)
    case invalidOption(String)
    /// The model has no chat template to build task prompts with.
    case missingChatTemplate(model: String)
    case engine(String)

    public var description: String {
        switch self {
        case .corpusUnavailable(let path, let reason):
            return "the real-text corpus \(path) is unavailable (\(reason)); on Debian/Ubuntu it comes with the base-files package, or pass --corpus DIRECTORY"
        case .contextTooLong(let requested, let modelContext):
            return "context \(requested) tokens exceeds the model's context length (\(modelContext)); pick a smaller --context"
        case .contextTooShort(let requested, let minimum):
            return "context \(requested) tokens leaves no room for a haystack; the task prompt alone needs \(minimum) tokens"
        case .textTooShort(let tokens, let context):
            return "the real text has \(tokens) tokens, fewer than one \(context)-token window; pick a smaller --context for ppl"
        case .invalidOption(let message):
            return message
        case .missingChatTemplate(let model):
            return "\(model) has no chat template (GGUF tokenizer.chat_template); needle tasks need one to build their prompts"
        case .engine(let message):
            return "the engine failed: \(message)"
        }
    }
}
