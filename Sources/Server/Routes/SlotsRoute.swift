import JSON

/// `GET /slots`: the engine's running and waiting sessions (id, state, token counts, KV bytes held
/// and what the same positions would hold uncompressed, KV compression policy and rounds; never
/// prompt text). Behind the API key.
public struct SlotsRoute: Route {
    public let method = "GET"
    public let pattern = "/slots"

    public init() {}

    public func handle(_ request: HTTPRequest, context: RouteContext) throws(APIError) -> HTTPResponse {
        let service = try context.service()
        let sessions: [JSONValue] = service.sessions().map { session in
            ["id": .string(session.requestID), "state": .string(session.state), "prompt_tokens": .int(session.promptTokens),
             "processed_prompt_tokens": .int(session.processedPromptTokens),
             "generated_tokens": .int(session.generatedTokens), "kv_bytes": .int(session.kvBytes),
             "kv_bytes_uncompressed": .int(session.kvBytesUncompressed), "kv_compression": .string(session.kvCompression),
             "kv_compressions": .int(session.kvCompressions)]
        }
        return .json(.array(sessions))
    }
}
