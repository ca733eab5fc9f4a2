import Engine

/// `GET /metrics`: Prometheus text (see `MetricsExposition`). Open without the API key; while the
/// model loads the engine counters read 0.
public struct MetricsRoute: Route {
    public let method = "GET"
    public let pattern = "/metrics"
    public var requiresAuthentication: Bool { false }

    public init() {}

    public func handle(_ request: HTTPRequest, context: RouteContext) throws(APIError) -> HTTPResponse {
        let service = context.slot.current
        let text = MetricsExposition.render(engine: service?.metrics() ?? EngineMetrics(), server: context.metrics,
                                            modelName: service.map { context.displayName($0) } ?? "")
        return .text(text, contentType: "text/plain; version=0.0.4; charset=utf-8")
    }
}
