/// Finds the route for a method and path. Unknown paths are 404, known paths with another
/// method 405 with `Allow`; HEAD is served by GET routes. In a pattern, `{name}` matches one
/// segment and a final `{name*}` the rest of the path (model names like `org/model`).
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
        var patternSegments = Self.segments(pattern)
        var parameters: [String: String] = [:]
        if let last = patternSegments.last, last.hasPrefix("{") && last.hasSuffix("*}") {
            patternSegments.removeLast()
            guard segments.count > patternSegments.count else { return nil }
            parameters[String(last.dropFirst().dropLast(2))] = segments[patternSegments.count...].joined(separator: "/")
        } else {
            guard patternSegments.count == segments.count else { return nil }
        }
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
