import Engine
import JSON

/// `GET /v1/models/{id}` (ids may contain "/"): the entry, or 404 `model_not_found`.
public struct ModelRoute: Route {
    public let method = "GET"
    public let pattern = "/v1/models/{id*}"

    public init() {}

    public func handle(_ request: HTTPRequest, context: RouteContext) throws(APIError) -> HTTPResponse {
        let service = try context.service()
        let name = context.pathParameters["id"] ?? ""
        let served = context.servedNames(service)
        guard served.contains(name) else { throw APIError.modelNotFound(name, served: served) }
        return .json(ModelsRoute.entry(name: name, service: service, created: context.serverStartedAt))
    }
}
