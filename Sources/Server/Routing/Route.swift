/// One endpoint: a method and a path pattern (`{name}` matches one segment, a final `{name*}`
/// the rest of the path).
public protocol Route: Sendable {
    var method: String { get }
    var pattern: String { get }
    /// False for `/health` and `/metrics`, which stay open without the API key.
    var requiresAuthentication: Bool { get }
    func handle(_ request: HTTPRequest, context: RouteContext) throws(APIError) -> HTTPResponse
}

extension Route {
    public var requiresAuthentication: Bool { true }
}
