/// The settings the API layer uses (a projection of `Configuration`).
public struct ServerOptions: Sendable {
    /// Accepted API keys; empty leaves the API open.
    public var apiKeys: [String] = []
    /// Names the model answers to besides its id.
    public var aliases: [String] = []
    /// A silent stream gets an SSE comment this often.
    public var keepAliveSeconds: Double = 15
    /// How often waiting handlers check that the client is still connected.
    public var pollInterval: Double = 0.25
    /// `Retry-After` on 503 when the queue is full.
    public var retryAfterSeconds = 1
    public var requestLog = true

    public init() {}

    public init(configuration: Configuration) {
        apiKeys = configuration.apiKeys
        aliases = configuration.aliases
        keepAliveSeconds = configuration.keepAliveSeconds
        requestLog = configuration.requestLog
    }
}
