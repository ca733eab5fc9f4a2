import Engine
import JSON

/// `POST /v1/chat/completions`.
public struct ChatCompletionsRoute: Route {
    public let method = "POST"
    public let pattern = "/v1/chat/completions"

    public init() {}

    public func handle(_ request: HTTPRequest, context: RouteContext) throws(APIError) -> HTTPResponse {
        let fields = try RequestBody.fields(request)
        try Self.rejectUnsupported(fields)
        let parameters = try GenerationParameters(fields, endpoint: .chat)
        let topLogprobs = try Self.logprobsSetting(fields)
        let messages = try ChatMessages.templateValues(fields)
        let tools = try ToolRequest(fields)
        let toolGrammar = try ToolCallGrammar.grammar(for: tools)
        if toolGrammar != nil, parameters.grammar != nil {
            throw .invalidValue("tool_choice", "Invalid value for 'tool_choice': '\(tools.choice)' constrains the output to tool calls, so it cannot be combined with a JSON 'response_format' or a 'grammar'; use tool_choice 'auto' or drop the format.")
        }

        let service = try context.service()
        try context.checkModel(parameters.model, service: service)
        let logitBias = try parameters.resolvedLogitBias(vocabularySize: service.tokenizer.vocabularySize)
        let prompt = try PromptTokens.chat(messages: messages, tools: tools.templateTools, service: service, renderer: context.renderer)
        try PromptTokens.checkContext(promptCount: prompt.count, maxTokens: parameters.maxTokens,
                                      contextLength: service.model.contextLength, param: "messages")

        let id = ResponseIdentity.id(prefix: "chatcmpl-")
        let requests = (0..<parameters.n).map { choice in
            var engineRequest = parameters.generationRequest(id: parameters.n == 1 ? id : "\(id)-\(choice)", prompt: prompt,
                                                             choice: choice, logitBias: logitBias)
            engineRequest.logprobs = topLogprobs
            if let toolGrammar { engineRequest.grammar = toolGrammar }
            return engineRequest
        }
        context.metrics.requestParamsN.observe(Double(parameters.n))
        let handles = try GenerationRun.submit(requests, to: service, promptParam: "messages",
                                               retryAfterSeconds: context.options.retryAfterSeconds)
        context.record.addTokens(prompt: prompt.count, completion: 0)

        let encoding = ChatCompletionEncoding(id: id, created: ResponseIdentity.unixTime(), model: context.displayName(service),
                                              topLogprobs: topLogprobs, tokenizer: service.tokenizer, tools: tools)
        if parameters.stream {
            let encoder = ChatStreamEncoder(encoding: encoding, choiceCount: parameters.n, includeUsage: parameters.includeUsage,
                                            promptTokenCount: prompt.count)
            return .eventStream(GenerationStream(handles: handles, encoder: encoder, request: request, context: context,
                                                 promptParam: "messages"))
        }
        let outcomes = try GenerationRun.collect(handles, request: request, context: context, promptParam: "messages")
        context.record.addTokens(prompt: 0, completion: outcomes.reduce(0) { $0 + $1.usage.completionTokens })
        return .json(encoding.response(outcomes, promptTokenCount: prompt.count))
    }

    /// `logprobs: true` with `top_logprobs` k (0…20) gives k; `top_logprobs` needs `logprobs`.
    static func logprobsSetting(_ fields: JSONFields) throws(APIError) -> Int? {
        try APIError.validating {
            let enabled = try fields.bool("logprobs") ?? false
            let top = try fields.int("top_logprobs", .closed(0, 20))
            if top != nil && !enabled {
                throw APIError.invalidValue("top_logprobs", "Invalid value for 'top_logprobs': it requires 'logprobs': true.")
            }
            return enabled ? (top ?? 0) : nil
        }
    }

    /// Features this server does not implement are refused by name, never ignored: the
    /// deprecated `functions`/`function_call` (use `tools`), audio output. (`response_format` is
    /// read by `OutputFormat`, tools by `ToolRequest`.)
    static func rejectUnsupported(_ fields: JSONFields) throws(APIError) {
        if let functions = fields.value("functions"), functions.arrayValue?.isEmpty != true {
            throw .unsupported("functions", "The deprecated 'functions' parameter is not supported; send the functions as 'tools'.")
        }
        if let call = fields.value("function_call"), call.stringValue != "none", call.stringValue != "auto" {
            throw .unsupported("function_call", "The deprecated 'function_call' parameter is not supported; use 'tool_choice'.")
        }
        if fields.value("audio") != nil {
            throw .unsupported("audio", "Audio output is not supported by this server; remove 'audio'.")
        }
        if let modalities = fields.value("modalities"), modalities != ["text"] {
            throw .unsupported("modalities", "Only the 'text' modality is supported.")
        }
    }
}
