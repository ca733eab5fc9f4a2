import Engine
import JSON

/// `POST /v1/completions`: prompts as a string, strings, token ids or lists of token ids;
/// `echo`; legacy integer `logprobs`, with prompt-token logprobs when `echo` is set (with
/// `max_tokens: 0` that scores a text without generating, as evaluation harnesses do).
public struct CompletionsRoute: Route {
    public let method = "POST"
    public let pattern = "/v1/completions"
    /// Prompts × n per request at most (each is an engine request).
    static let maxGenerations = 128

    public init() {}

    public func handle(_ request: HTTPRequest, context: RouteContext) throws(APIError) -> HTTPResponse {
        let fields = try RequestBody.fields(request)
        try Self.rejectUnsupported(fields)
        let parameters = try GenerationParameters(fields, endpoint: .completions)
        let echo: Bool
        let logprobs: Int?
        do {
            echo = try fields.bool("echo") ?? false
            logprobs = try fields.int("logprobs", .closed(0, 20))
        } catch {
            throw .field(error)
        }

        let service = try context.service()
        try context.checkModel(parameters.model, service: service)
        let logitBias = try parameters.resolvedLogitBias(vocabularySize: service.tokenizer.vocabularySize)
        let prompts = try CompletionPrompt.parse(fields, tokenizer: service.tokenizer)
        guard prompts.count * parameters.n <= Self.maxGenerations else {
            throw .invalidValue("prompt", "Invalid value for 'prompt': \(prompts.count) prompts × n=\(parameters.n) exceeds \(Self.maxGenerations) generations per request; split the batch.")
        }
        for (index, prompt) in prompts.enumerated() {
            try PromptTokens.checkContext(promptCount: prompt.tokens.count, maxTokens: parameters.maxTokens,
                                          contextLength: service.model.contextLength,
                                          param: prompts.count == 1 ? "prompt" : "prompt[\(index)]")
        }

        let id = ResponseIdentity.id(prefix: "cmpl-")
        var requests: [GenerationRequest] = []
        for (promptIndex, prompt) in prompts.enumerated() {
            for choice in 0..<parameters.n {
                let index = promptIndex * parameters.n + choice
                var engineRequest = parameters.generationRequest(id: prompts.count * parameters.n == 1 ? id : "\(id)-\(index)",
                                                                 prompt: prompt.tokens, choice: choice, logitBias: logitBias)
                engineRequest.logprobs = logprobs
                if echo, let logprobs { engineRequest.promptLogprobs = logprobs }
                requests.append(engineRequest)
            }
        }
        for _ in prompts { context.metrics.requestParamsN.observe(Double(parameters.n)) }
        let handles = try GenerationRun.submit(requests, to: service, promptParam: "prompt",
                                               retryAfterSeconds: context.options.retryAfterSeconds)
        context.record.addTokens(prompt: prompts.reduce(0) { $0 + $1.tokens.count }, completion: 0)

        let encoding = CompletionEncoding(id: id, created: ResponseIdentity.unixTime(), model: context.displayName(service),
                                          prompts: prompts, choicesPerPrompt: parameters.n, echo: echo, logprobs: logprobs,
                                          tokenizer: service.tokenizer)
        if parameters.stream {
            let encoder = CompletionStreamEncoder(encoding: encoding, choiceCount: requests.count,
                                                  includeUsage: parameters.includeUsage)
            return .eventStream(GenerationStream(handles: handles, encoder: encoder, request: request, context: context,
                                                 promptParam: "prompt"))
        }
        let outcomes = try GenerationRun.collect(handles, request: request, context: context, promptParam: "prompt")
        context.record.addTokens(prompt: 0, completion: outcomes.reduce(0) { $0 + $1.usage.completionTokens })
        return .json(encoding.response(outcomes))
    }

    static func rejectUnsupported(_ fields: JSONFields) throws(APIError) {
        if let suffix = fields.value("suffix"), suffix.stringValue != "" {
            throw .unsupported("suffix", "'suffix' (fill-in-the-middle) is not supported by this server; remove it.")
        }
        if let bestOf = fields.value("best_of"), bestOf.intValue != 1 {
            throw .unsupported("best_of", "'best_of' is not supported by this server; use n and pick on the client.")
        }
    }
}
