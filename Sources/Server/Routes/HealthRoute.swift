import JSON

/// `GET /health`: 200 `{"status": "ok"}` once the model is ready, 503 `model_loading` before.
/// Open without the API key (container and Kubernetes probes).
public struct HealthRoute: Route {
    public let method = "GET"
    public let pattern = "/health"
    public var requiresAuthentication: Bool { false }

    public init() {}

    public func handle(_ request: HTTPRequest, context: RouteContext) throws(APIError) -> HTTPResponse {
        _ = try context.service()
        return .json(["status": "ok"])
    }
}
