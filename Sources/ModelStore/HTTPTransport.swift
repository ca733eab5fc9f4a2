import Foundation

/// What a server said about a response before its body.
public struct HTTPResponseHead: Sendable, Equatable {
    public var statusCode: Int
    /// The media type without parameters, lower-cased (`application/vnd.pypi.simple.v1+json`).
    public var contentType: String?
    /// `Content-Length`, when the server sent one.
    public var expectedByteCount: Int64?
    /// The URL that answered, after redirects (relative links on index pages resolve against it).
    public var url: URL

    public init(statusCode: Int, contentType: String?, expectedByteCount: Int64?, url: URL) {
        self.statusCode = statusCode
        self.contentType = contentType
        self.expectedByteCount = expectedByteCount
        self.url = url
    }
}

/// The one thing the store needs from the network: a streamed GET.
///
/// `URLSessionTransport` is the real one; tests inject fakes that serve in-memory pages and
/// wheels, or fail half-way, without a socket.
public protocol HTTPTransport: Sendable {
    /// GETs `url`, calls `head` once, then `body` with the body's bytes in order.
    ///
    /// Throws `ModelStoreError.httpStatus` for a non-2xx answer (before `body` is called),
    /// `ModelStoreError.network` for transport failures, and rethrows whatever `head` or `body`
    /// throw (the transfer is then abandoned).
    func get(_ url: URL, accept: String, head: (HTTPResponseHead) throws -> Void, body: (Data) throws -> Void) throws
}

extension HTTPTransport {
    /// GETs a small document into memory.
    func fetch(_ url: URL, accept: String) throws -> (head: HTTPResponseHead, body: Data) {
        var responseHead: HTTPResponseHead?
        var data = Data()
        try get(url, accept: accept, head: { responseHead = $0 }, body: { data.append($0) })
        guard let responseHead else { throw ModelStoreError.network(url: url.redactedString, message: "no response") }
        return (responseHead, data)
    }
}

extension URL {
    /// The URL without user name and password, for messages (index URLs may carry credentials).
    public var redactedString: String {
        guard var components = URLComponents(url: self, resolvingAgainstBaseURL: false),
              components.user != nil || components.password != nil else { return absoluteString }
        components.user = nil
        components.password = nil
        return components.url?.absoluteString ?? absoluteString
    }
}
