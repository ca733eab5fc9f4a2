/// A load-test failure a user can act on: a refused URL, a server that never became ready, a
/// bad option combination. Per-request failures are not errors: they are counted in the report.
public struct LoadTestError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
