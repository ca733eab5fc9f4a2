import Server

/// Listening and connection settings of the libmicrohttpd transport.
public struct HTTPServerOptions: Sendable {
    /// A numeric address or a host name; `0.0.0.0` / `::` listen on every interface.
    public var host = "127.0.0.1"
    /// 0 picks a free port (read it back from `HTTPServer.port`).
    public var port = 8080
    /// Bodies above this get 413 before they are read.
    public var maxBodyBytes = 16 * 1024 * 1024
    /// Open connections at most; each has its own thread.
    public var connectionLimit = 256
    /// Idle or stalled connections close after this; a request being handled never times out
    /// (its thread is inside the handler, and streams send keep-alives).
    public var connectionTimeoutSeconds = 120

    public init() {}

    public init(configuration: Configuration) {
        host = configuration.host
        port = configuration.port
        maxBodyBytes = configuration.maxBodyBytes
        connectionLimit = configuration.connectionLimit
        connectionTimeoutSeconds = configuration.connectionTimeoutSeconds
    }
}

/// The transport could not start.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
