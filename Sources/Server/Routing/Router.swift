/// Finds the route for a method and path. Unknown paths are 404, known paths with another
/// method 405 with `Allow`; HEAD is served by GET routes.
public struct Router: Sendable {
    public enum Match {
        case route(any Route, parameters: [String: String])
        case notFound
        case methodNotAllowed(allowed: [String])
    }

    private let routes: [any Route]

    public init(routes: [any Route]) { self.routes = routes }

    public func match(method: String, path: String) -> Match {
        let segments = Self.segments(path)
        var allowed: [String] = []
        for route in routes {
            guard let parameters = Self.parameters(pattern: route.pattern, segments: segments) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return .route(route, parameters: parameters)
            }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// Path segments without empty ones (so a trailing slash matches too).
    static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    static func parameters(pattern: String, segments: [Substring]) -> [String: String]? {
        let patternSegments = Self.segments(pattern)
        guard patternSegments.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(patternSegments, segments) {
            if expected.hasPrefix("{") && expected.hasSuffix("}") {
                parameters[String(expected.dropFirst().dropLast())] = String(actual)
            } else if expected != actual {
                return nil
            }
        }
        return parameters
    }
}
