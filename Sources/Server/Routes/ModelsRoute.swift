import Engine
import JSON

/// `GET /v1/models`: one entry per served name (the display name first). Each carries vLLM's
/// `max_model_len` and a `meta` object describing the file.
public struct ModelsRoute: Route {
    public let method = "GET"
    public let pattern = "/v1/models"

    public init() {}

    public func handle(_ request: HTTPRequest, context: RouteContext) throws(APIError) -> HTTPResponse {
        let service = try context.service()
        let entries = Self.names(context: context, service: service).map {
            Self.entry(name: $0, service: service, created: context.serverStartedAt)
        }
        return .json(["object": "list", "data": .array(entries)])
    }

    static func names(context: RouteContext, service: any GenerationService) -> [String] {
        let display = context.displayName(service)
        return [display] + context.servedNames(service).filter { $0 != display }
    }

    static func entry(name: String, service: any GenerationService, created: Int) -> JSONValue {
        let model = service.model
        let meta: JSONValue = ["architecture": .string(model.architecture), "parameters": .int(model.parameterCount),
                               "quantization": .string(model.quantization), "context_length": .int(model.contextLength),
                               "vocab_size": .int(model.vocabularySize), "size_bytes": .int(model.fileBytes)]
        return ["id": .string(name), "object": "model", "created": .int(created), "owned_by": "entropyinfer",
                "root": .string(model.id), "parent": .null, "max_model_len": .int(model.contextLength), "meta": meta]
    }
}
