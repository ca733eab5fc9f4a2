import Foundation

/// The status line and header fields of an HTTP/1.1 response.
public struct HTTPResponseHead: Sendable, Equatable {
    public var status: Int
    public var headers: [(name: String, value: String)]

    /// The first value of a header field (names compare case-insensitively).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    public static func == (a: HTTPResponseHead, b: HTTPResponseHead) -> Bool {
        a.status == b.status && a.headers.elementsEqual(b.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// Incremental parser of one HTTP/1.1 response: bytes go in as `recv` returns them, split
/// anywhere; the head is available once complete, and body bytes come out de-chunked as soon
/// as they arrive. Interim 1xx responses are skipped.
public struct HTTPResponseParser: Sendable {
    enum Framing: Sendable {
        case chunked(ChunkedDecoder)
        case length(remaining: Int)
        case untilClose
    }

    /// A response head longer than this is refused (servers send well under 1 KiB).
    static let maxHeadBytes = 64 * 1024

    public private(set) var head: HTTPResponseHead?
    private var headBytes: [UInt8] = []
    private var framing: Framing?
    private var complete = false

    public init() {}

    /// True once the whole body has been read (chunked or Content-Length framing), or after
    /// `finish()` for a body delimited by the connection's close.
    public var isComplete: Bool { complete }

    /// Consumes bytes, returning the body bytes among them (nothing while the head is incomplete).
    public mutating func consume(_ bytes: ArraySlice<UInt8>) throws(LoadTestError) -> [UInt8] {
        var body: [UInt8] = []
        var rest = bytes
        while !rest.isEmpty && !complete {
            guard let framing else {
                rest = try consumeHead(rest)
                continue
            }
            switch framing {
            case .chunked(var decoder):
                let used = try decoder.decode(rest, into: &body)
                rest = rest.dropFirst(used)
                self.framing = .chunked(decoder)
                if decoder.isComplete { complete = true }
            case .length(let remaining):
                let take = min(remaining, rest.count)
                body.append(contentsOf: rest.prefix(take))
                rest = rest.dropFirst(take)
                self.framing = .length(remaining: remaining - take)
                if remaining == take { complete = true }
            case .untilClose:
                body.append(contentsOf: rest)
                rest = rest.dropFirst(rest.count)
            }
        }
        return body
    }

    /// The connection closed: fine for a close-delimited body, an error when the head or a
    /// framed body was cut short.
    public mutating func finish() throws(LoadTestError) {
        guard !complete else { return }
        switch framing {
        case .untilClose:
            complete = true
        case nil:
            throw LoadTestError(headBytes.isEmpty ? "the server closed the connection without answering"
                                                  : "the server closed the connection in the middle of the response head")
        case .chunked, .length:
            throw LoadTestError("the server closed the connection before the end of the response body")
        }
    }

    /// Appends to the head, and once its blank line arrives parses it and picks the body framing.
    /// Returns the bytes after the head.
    private mutating func consumeHead(_ bytes: ArraySlice<UInt8>) throws(LoadTestError) -> ArraySlice<UInt8> {
        let searchStart = max(0, headBytes.count - 3)
        headBytes.append(contentsOf: bytes)
        guard let end = Self.endOfHead(headBytes, from: searchStart) else {
            guard headBytes.count <= Self.maxHeadBytes else {
                throw LoadTestError("the response head is longer than \(Self.maxHeadBytes) bytes")
            }
            return []
        }
        let parsed = try Self.parseHead(headBytes[..<end.headEnd])
        let leftover = headBytes[end.bodyStart...]
        let rest = ArraySlice(Array(leftover))
        headBytes.removeAll()
        if (100..<200).contains(parsed.status) { return rest }
        head = parsed
        if parsed.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
            framing = .chunked(ChunkedDecoder())
        } else if let lengthText = parsed.header("Content-Length") {
            guard let length = Int(lengthText.trimmingCharacters(in: .whitespaces)), length >= 0 else {
                throw LoadTestError("the response has a malformed Content-Length '\(lengthText)'")
            }
            framing = .length(remaining: length)
            if length == 0 { complete = true }
        } else {
            framing = .untilClose
        }
        return rest
    }

    /// Where the head ends: the index of its blank line and of the first body byte.
    static func endOfHead(_ bytes: [UInt8], from start: Int) -> (headEnd: Int, bodyStart: Int)? {
        var index = start
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n") { return (index, index + 2) }
                if index + 2 < bytes.count && bytes[index + 1] == UInt8(ascii: "\r") && bytes[index + 2] == UInt8(ascii: "\n") {
                    return (index, index + 3)
                }
            }
            index += 1
        }
        return nil
    }

    static func parseHead(_ bytes: ArraySlice<UInt8>) throws(LoadTestError) -> HTTPResponseHead {
        // Split bytes, not a String: Swift's "\r\n" is one Character, unequal to "\n".
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
        }
        let statusLine = lines.isEmpty ? "" : lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...999).contains(status) else {
            throw LoadTestError("not an HTTP/1.x response: '\(statusLine.prefix(80))'")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw LoadTestError("malformed response header line '\(line.prefix(80))'")
            }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return HTTPResponseHead(status: status, headers: headers)
    }
}
