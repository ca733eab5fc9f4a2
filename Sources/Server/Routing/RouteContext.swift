import Engine

/// What a route may use while handling one request.
public struct RouteContext: Sendable {
    public let slot: ServiceSlot
    public let options: ServerOptions
    public let metrics: ServerMetrics
    public let logger: Logger
    public let renderer: any ChatPromptRenderer
    public let record: RequestRecord
    /// `{name}` segments of the matched pattern.
    public let pathParameters: [String: String]
    /// Unix time the server started (`created` of the model entries).
    public let serverStartedAt: Int

    /// The loaded model's service; 503 `model_loading` until it is ready.
    public func service() throws(APIError) -> any GenerationService {
        guard let service = slot.ready else { throw APIError.modelLoading }
        return service
    }

    /// Names a request may put in `model`: the model's id, its aliases and configured aliases.
    public func servedNames(_ service: any GenerationService) -> [String] {
        var names = service.model.servedNames
        for alias in options.aliases where !names.contains(alias) { names.append(alias) }
        return names
    }

    /// The id responses carry: the first configured alias, else the model's id.
    public func displayName(_ service: any GenerationService) -> String {
        options.aliases.first ?? service.model.id
    }

    /// 404 unless `requested` (when given) is one of the served names.
    public func checkModel(_ requested: String?, service: any GenerationService) throws(APIError) {
        guard let requested else { return }
        let names = servedNames(service)
        guard names.contains(requested) else { throw APIError.modelNotFound(requested, served: names) }
    }
}
