/// Why a grammar or a JSON Schema could not be turned into a constraint. The message names what
/// is wrong (the rule, the position, the schema keyword and where it sits) so a client can fix
/// its request; the server answers it with a 400.
public struct GrammarError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// For schema errors: the unsupported or invalid keyword (e.g. "pattern"), else nil.
    public var keyword: String?

    public init(_ message: String, keyword: String? = nil) {
        self.message = message
        self.keyword = keyword
    }

    public var description: String { message }
}
