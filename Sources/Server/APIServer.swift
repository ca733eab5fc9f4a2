import Engine
import Foundation

/// The OpenAI-compatible API as an `HTTPHandler`: routing (404/405), authentication, the
/// per-route handlers, the error envelope, the request log and HTTP metrics. Transport-neutral:
/// `HTTPServer` feeds it from libmicrohttpd, tests call `handle` directly.
public final class APIServer: HTTPHandler, @unchecked Sendable {
    public let slot: ServiceSlot
    public let options: ServerOptions
    public let metrics: ServerMetrics
    public let logger: Logger
    private let router: Router
    private let authenticator: Authenticator
    private let renderer: any ChatPromptRenderer
    private let startedAt = ResponseIdentity.unixTime()

    public init(slot: ServiceSlot, options: ServerOptions = ServerOptions(), logger: Logger = Logger(),
                renderer: any ChatPromptRenderer = ModelTemplateRenderer(), metrics: ServerMetrics = ServerMetrics(),
                routes: [any Route] = APIServer.standardRoutes) {
        self.slot = slot; self.options = options; self.logger = logger; self.renderer = renderer; self.metrics = metrics
        self.router = Router(routes: routes)
        self.authenticator = Authenticator(keys: options.apiKeys)
    }

    /// Every endpoint the server offers.
    public static let standardRoutes: [any Route] = [
        ChatCompletionsRoute(), CompletionsRoute(), ModelsRoute(), ModelRoute(), TokenizeRoute(), DetokenizeRoute(),
        HealthRoute(), MetricsRoute(), SlotsRoute(),
    ]

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let record = RequestRecord(method: request.method, path: request.path, startedAt: request.receivedAt)
        var response: HTTPResponse
        switch router.match(method: request.method, path: request.path) {
        case .notFound:
            response = failure(.unknownURL(method: request.method, path: request.path), record: record)
        case .methodNotAllowed(let allowed):
            response = failure(.methodNotAllowed(method: request.method, path: request.path, allowed: allowed), record: record)
        case .route(let route, let parameters):
            if route.requiresAuthentication && !authenticator.isAuthorized(request.headers) {
                response = failure(.invalidAPIKey, record: record)
            } else {
                let context = RouteContext(slot: slot, options: options, metrics: metrics, logger: logger, renderer: renderer,
                                           record: record, pathParameters: parameters, serverStartedAt: startedAt)
                do {
                    response = try route.handle(request, context: context)
                } catch {
                    response = failure(error, record: record)
                }
            }
        }
        metrics.recordResponse(status: response.status)
        if case .stream(let stream) = response.body {
            response.body = .stream(LoggedStream(stream, record: record, status: response.status, server: self))
        } else {
            logRequest(record, status: response.status)
        }
        return response
    }

    /// A request the transport refused before routing (body too large, server draining).
    public func reject(method: String, path: String, error: APIError) -> HTTPResponse {
        let record = RequestRecord(method: method, path: path, startedAt: MonotonicClock.now())
        let response = failure(error, record: record)
        metrics.recordResponse(status: response.status)
        logRequest(record, status: response.status)
        return response
    }

    private func failure(_ error: APIError, record: RequestRecord) -> HTTPResponse {
        record.setNote(error.code)
        if error.status >= 500 && error.status != 503 { logger.error("\(record.method) \(record.path): \(error.message)") }
        return error.response
    }

    fileprivate func logRequest(_ record: RequestRecord, status: Int) {
        guard options.requestLog else { return }
        logger.info(record.line(status: status))
    }
}

/// Logs a streamed request when the transport closes its stream.
private final class LoggedStream: ResponseStream, @unchecked Sendable {
    private let inner: any ResponseStream
    private let record: RequestRecord
    private let status: Int
    private let server: APIServer

    init(_ inner: any ResponseStream, record: RequestRecord, status: Int, server: APIServer) {
        self.inner = inner; self.record = record; self.status = status; self.server = server
    }

    func nextChunk() -> [UInt8]? { inner.nextChunk() }

    func close(completed: Bool) {
        inner.close(completed: completed)
        server.logRequest(record, status: status)
    }
}
