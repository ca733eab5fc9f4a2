import CMicroHTTPD
import CShims
import Foundation
import Server

/// The C callbacks libmicrohttpd calls, on the connection's own thread (thread per connection).
/// They live in this library type, not in top-level code, so Swift does not infer them to be
/// main-actor isolated.
enum MHDCallbacks {
    /// Called for each chunk of a request: first with no state (headers are complete), then with
    /// body data, then once more with no data when the body is complete.
    static let accessHandler: MHD_AccessHandlerCallback = { context, connection, url, method, _, uploadData, uploadSize, requestContext in
        guard let context, let connection, let requestContext, let uploadSize else { return .NO }
        let server = Unmanaged<HTTPServerState>.fromOpaque(context).takeUnretainedValue()

        guard let existing = requestContext.pointee else {
            let state = RequestState(method: method.map { String(cString: $0) } ?? "GET",
                                     path: url.map { String(cString: $0) } ?? "/",
                                     headers: HTTPHeaders(values(of: connection, kind: .HEADER_KIND)),
                                     query: values(of: connection, kind: .GET_ARGUMENT_KIND).map { (name: $0.0, value: $0.1) },
                                     connection: ConnectionProbe(socket: shim_mhd_connection_fd(connection), server: server))
            requestContext.pointee = Unmanaged.passRetained(state).toOpaque()
            server.requestBegan()
            if server.isDraining {
                return reject(state, connection, server, .shuttingDown)
            }
            if let length = state.headers["Content-Length"].flatMap(Int.init), length > server.maxBodyBytes {
                // Answer at once when the client waits for "100 Continue" or the body is too big to
                // read; otherwise read and discard it first, so clients that send the whole body
                // before reading (Python's urllib, httpx) see the 413 instead of a broken pipe.
                let expectsContinue = state.headers["Expect"]?.lowercased() == "100-continue"
                if expectsContinue || length > server.discardLimitBytes {
                    return reject(state, connection, server, .requestTooLarge(limit: server.maxBodyBytes))
                }
                state.oversized = true
            }
            return .YES
        }
        let state = Unmanaged<RequestState>.fromOpaque(existing).takeUnretainedValue()

        if uploadSize.pointee > 0 {
            let count = uploadSize.pointee
            uploadSize.pointee = 0
            guard !state.responded else { return .YES }
            // libmicrohttpd cannot answer in the middle of an upload: discard what is over the
            // limit, answer 413 once the upload ends, and drop connections that send more than
            // `discardLimitBytes`.
            guard !state.oversized, state.body.count + count <= server.maxBodyBytes else {
                state.oversized = true
                state.discardedBytes += state.body.count + count
                state.body = []
                return state.discardedBytes > server.discardLimitBytes ? .NO : .YES
            }
            if let uploadData {
                uploadData.withMemoryRebound(to: UInt8.self, capacity: count) {
                    state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
                }
            }
            return .YES
        }
        guard !state.responded else { return .YES }
        if state.oversized {
            return reject(state, connection, server, .requestTooLarge(limit: server.maxBodyBytes))
        }
        state.responded = true

        let request = HTTPRequest(method: state.method, path: state.path, query: state.query, headers: state.headers,
                                  body: state.body, connection: state.connection)
        state.body = []
        return queue(server.handler.handle(request), on: connection)
    }

    /// Runs when a request is over (answered, failed, timed out or aborted by the client).
    static let requestCompleted: MHD_RequestCompletedCallback = { context, _, requestContext, _ in
        guard let context, let requestContext, let existing = requestContext.pointee else { return }
        requestContext.pointee = nil
        Unmanaged<RequestState>.fromOpaque(existing).release()
        Unmanaged<HTTPServerState>.fromOpaque(context).takeUnretainedValue().requestEnded()
    }

    /// Pulls the next bytes of a streamed response; blocks in the stream until they exist.
    static let contentReader: MHD_ContentReaderCallback = { context, _, buffer, capacity in
        guard let context, let buffer else { return -1 }
        let stream = Unmanaged<StreamContext>.fromOpaque(context).takeUnretainedValue()
        let count = stream.read(into: buffer, capacity: capacity)
        return count < 0 ? Int(MHD_CONTENT_READER_END_OF_STREAM) : count
    }

    /// The streamed response is destroyed: tell the stream (which cancels a cut-short generation).
    static let contentReaderFree: MHD_ContentReaderFreeCallback = { context in
        guard let context else { return }
        let stream = Unmanaged<StreamContext>.fromOpaque(context).takeRetainedValue()
        stream.finish()
    }

    /// libmicrohttpd's own error messages, formatted by the C shim.
    static let log: shim_log_callback = { context, message in
        guard let context, let message else { return }
        let server = Unmanaged<HTTPServerState>.fromOpaque(context).takeUnretainedValue()
        server.logger?.warning("libmicrohttpd: \(String(cString: message))")
    }

    private static let collectValue: MHD_KeyValueIterator = { context, _, key, value in
        guard let context, let key else { return .YES }
        let collector = Unmanaged<ValueCollector>.fromOpaque(context).takeUnretainedValue()
        collector.values.append((String(cString: key), value.map { String(cString: $0) } ?? ""))
        return .YES
    }

    private final class ValueCollector {
        var values: [(String, String)] = []
    }

    private static func values(of connection: OpaquePointer, kind: MHD_ValueKind) -> [(String, String)] {
        let collector = ValueCollector()
        withExtendedLifetime(collector) {
            _ = MHD_get_connection_values(connection, kind, collectValue, Unmanaged.passUnretained(collector).toOpaque())
        }
        return collector.values
    }

    private static func reject(_ state: RequestState, _ connection: OpaquePointer, _ server: HTTPServerState,
                               _ error: APIError) -> MHD_Result {
        state.responded = true
        var response = server.handler.reject(method: state.method, path: state.path, error: error)
        response.headers.append((name: "Connection", value: "close"))
        return queue(response, on: connection)
    }

    /// Hands a response to libmicrohttpd: a copied buffer, or a chunked body pulled from a stream.
    static func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
        let handle: OpaquePointer?
        switch response.body {
        case .bytes(var bytes):
            handle = bytes.withUnsafeMutableBytes { buffer in
                MHD_create_response_from_buffer(buffer.count, buffer.baseAddress, .RESPMEM_MUST_COPY)
            }
        case .stream(let stream):
            let context = Unmanaged.passRetained(StreamContext(stream: stream)).toOpaque()
            handle = MHD_create_response_from_callback(UInt64.max, 32 * 1024, contentReader, context, contentReaderFree)
            if handle == nil {
                Unmanaged<StreamContext>.fromOpaque(context).takeRetainedValue().finish()
            }
        }
        guard let handle else { return .NO }
        defer { MHD_destroy_response(handle) }
        for (name, value) in response.headers {
            _ = MHD_add_response_header(handle, name, value)
        }
        return MHD_queue_response(connection, UInt32(response.status), handle)
    }
}
