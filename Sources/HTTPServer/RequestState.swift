import CMicroHTTPD
import CShims
import Foundation
import Server

/// What libmicrohttpd keeps for one request between access-handler calls (`*con_cls`): the
/// request line, headers and the body as it arrives.
final class RequestState: @unchecked Sendable {
    let method: String
    let path: String
    let headers: HTTPHeaders
    let query: [(name: String, value: String)]
    let connection: ConnectionProbe
    var body: [UInt8] = []
    /// A response has been queued (the rest of any upload is discarded).
    var responded = false
    /// The body is over the limit: it is read and discarded, and the answer is 413 once it ends.
    var oversized = false
    var discardedBytes = 0

    init(method: String, path: String, headers: HTTPHeaders, query: [(name: String, value: String)], connection: ConnectionProbe) {
        self.method = method; self.path = path; self.headers = headers; self.query = query; self.connection = connection
    }
}

/// `ClientConnection` over the request's socket: closed when the peer hung up (poll sees
/// RDHUP/HUP/ERR) or when the server aborts in-flight requests at shutdown. Only used while
/// the request is in progress, when libmicrohttpd keeps the socket open.
final class ConnectionProbe: ClientConnection, @unchecked Sendable {
    private let socket: Int32
    private let server: HTTPServerState

    init(socket: Int32, server: HTTPServerState) {
        self.socket = socket; self.server = server
    }

    var isClosed: Bool { server.isAborting || shim_socket_peer_closed(socket) != 0 }
    var isServerStopping: Bool { server.isAborting }
}

/// A streamed response body as libmicrohttpd pulls it: chunks from the `ResponseStream`, split
/// to the buffer size MHD offers.
final class StreamContext: @unchecked Sendable {
    let stream: any ResponseStream
    private var pending: [UInt8] = []
    private var offset = 0
    private var ended = false
    private var closed = false

    init(stream: any ResponseStream) { self.stream = stream }

    /// Fills `buffer` with up to `capacity` bytes; returns the count, or -1 at the end.
    func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        if offset == pending.count {
            guard !ended, let next = stream.nextChunk(), !next.isEmpty else {
                ended = true
                return -1
            }
            pending = next
            offset = 0
        }
        let count = min(capacity, pending.count - offset)
        pending.withUnsafeBytes { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }

    /// The response is gone (sent or the connection dropped).
    func finish() {
        guard !closed else { return }
        closed = true
        stream.close(completed: ended && offset == pending.count)
    }
}
