import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HTTPTransport` over Foundation's `URLSession` (libcurl on Linux), streaming through a
/// data delegate: `URLSession.bytes(for:)` does not exist in swift-corelibs-foundation, and a
/// delegate lets the body go straight to disk and the hasher without buffering it.
///
/// Proxies come from the usual `https_proxy` / `no_proxy` variables (libcurl reads them).
public struct URLSessionTransport: HTTPTransport {
    /// A transfer fails when no byte arrives for this long (seconds).
    public var idleTimeout: TimeInterval
    /// A transfer fails when it takes longer than this in total (seconds).
    public var totalTimeout: TimeInterval

    public init(idleTimeout: TimeInterval = 60, totalTimeout: TimeInterval = 3 * 3600) {
        self.idleTimeout = idleTimeout
        self.totalTimeout = totalTimeout
    }

    public func get(_ url: URL, accept: String, head: (HTTPResponseHead) throws -> Void,
                    body: (Data) throws -> Void) throws {
        // The delegate holds the closures only while this call waits for the transfer, and drops
        // them before the transfer is reported complete, so they never really escape.
        try withoutActuallyEscaping(head) { head in
            try withoutActuallyEscaping(body) { body in
                let delegate = TransferDelegate(url: url, idleTimeout: idleTimeout, head: head, body: body)
                let configuration = URLSessionConfiguration.ephemeral
                configuration.timeoutIntervalForRequest = idleTimeout
                configuration.timeoutIntervalForResource = totalTimeout
                configuration.httpAdditionalHeaders = ["User-Agent": "entropyinfer-model-store"]
                let queue = OperationQueue()
                queue.maxConcurrentOperationCount = 1
                let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: queue)
                var request = URLRequest(url: url)
                request.setValue(accept, forHTTPHeaderField: "Accept")
                session.dataTask(with: request).resume()
                delegate.completion.wait()
                session.finishTasksAndInvalidate()
                if let failure = delegate.failure { throw failure }
            }
        }
    }
}

/// Receives one transfer's callbacks on a serial queue and forwards them to the caller's closures.
private final class TransferDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let url: URL
    let idleTimeout: TimeInterval
    /// Signalled once, after the last callback that uses `head` or `body`.
    let completion = DispatchSemaphore(value: 0)
    // Touched only on the session's serial delegate queue, then read by the caller after `completion`.
    private var head: ((HTTPResponseHead) throws -> Void)?
    private var body: ((Data) throws -> Void)?
    private(set) var failure: Error?

    init(url: URL, idleTimeout: TimeInterval, head: @escaping (HTTPResponseHead) throws -> Void,
         body: @escaping (Data) throws -> Void) {
        self.url = url
        self.idleTimeout = idleTimeout
        self.head = head
        self.body = body
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        guard let response = response as? HTTPURLResponse else {
            failure = ModelStoreError.network(url: url.redactedString, message: "the answer is not HTTP")
            return completionHandler(.cancel)
        }
        let answeringURL = response.url ?? url
        guard (200..<300).contains(response.statusCode) else {
            failure = ModelStoreError.httpStatus(url: answeringURL.redactedString, statusCode: response.statusCode)
            return completionHandler(.cancel)
        }
        let expected = response.expectedContentLength
        let responseHead = HTTPResponseHead(statusCode: response.statusCode, contentType: response.mimeType?.lowercased(),
                                            expectedByteCount: expected >= 0 ? expected : nil, url: answeringURL)
        do {
            try head?(responseHead)
            completionHandler(.allow)
        } catch {
            failure = error
            completionHandler(.cancel)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil, let body else { return }
        do {
            try body(data)
        } catch {
            failure = error
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if failure == nil, let error { failure = describe(error) }
        head = nil
        body = nil
        completion.signal()
    }

    private func describe(_ error: Error) -> ModelStoreError {
        let host = url.host ?? url.redactedString
        let message: String
        switch (error as? URLError)?.code {
        case .cannotFindHost?, .dnsLookupFailed?: message = "cannot resolve the host name \(host) (DNS)"
        case .cannotConnectToHost?: message = "connection to \(host) refused or unreachable"
        case .notConnectedToInternet?: message = "no network connection"
        case .timedOut?: message = "no data from \(host) for \(Int(idleTimeout)) s (timed out)"
        case .networkConnectionLost?: message = "the connection to \(host) was lost mid-transfer"
        case .secureConnectionFailed?, .serverCertificateUntrusted?, .serverCertificateHasBadDate?,
             .serverCertificateNotYetValid?, .serverCertificateHasUnknownRoot?, .clientCertificateRejected?:
            message = "TLS with \(host) failed (\(error.localizedDescription)); are CA certificates installed?"
        default: message = error.localizedDescription
        }
        return .network(url: url.redactedString, message: message)
    }
}
