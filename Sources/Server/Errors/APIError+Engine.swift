import Engine

extension APIError {
    /// The HTTP answer to an engine error. `param` names the prompt parameter (`messages` or
    /// `prompt`) for errors about the prompt's size.
    public static func engine(_ error: EngineError, promptParam: String, retryAfterSeconds: Int = 1) -> APIError {
        switch error {
        case .contextLengthExceeded(let prompt, let requested, let context):
            return .contextLengthExceeded(promptTokens: prompt, requestedTokens: requested, contextLength: context,
                                          param: requested == nil ? promptParam : "max_tokens")
        case .exceedsKVMemory(let required, let budget):
            return APIError(status: 400, message: error.description, param: promptParam, code: Code.kvMemoryExceeded,
                            extra: ["required_bytes": .int(required), "budget_bytes": .int(budget)])
        case .queueFull:
            return APIError(status: 503, message: error.description, type: "server_error", code: Code.serverOverloaded,
                            headers: [Header("Retry-After", String(retryAfterSeconds))])
        case .invalidRequest(let message):
            return .invalidValue(nil, message)
        case .shuttingDown:
            return .shuttingDown
        case .internalError(let message):
            return .internalError(message)
        }
    }
}
