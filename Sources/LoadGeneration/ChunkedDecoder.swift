/// Incremental decoder of HTTP/1.1 chunked transfer coding (RFC 9112 §7.1): feed it the body
/// bytes as they arrive, split anywhere, and it returns the payload bytes they complete.
/// Chunk extensions and trailer fields are read and ignored.
public struct ChunkedDecoder: Sendable {
    enum State: Equatable, Sendable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailer
        case done
    }

    /// A chunk-size line or trailer line longer than this is malformed (servers write a few bytes).
    static let maxLineBytes = 4096

    private(set) var state: State = .size
    private var line: [UInt8] = []

    public init() {}

    /// True once the last (zero-size) chunk and the trailer have been read.
    public var isComplete: Bool { state == .done }

    /// Decodes `bytes`, appending payload to `payload`. Bytes after the end of the body are
    /// left unread; the return value is how many bytes were consumed.
    @discardableResult
    public mutating func decode(_ bytes: ArraySlice<UInt8>, into payload: inout [UInt8]) throws(LoadTestError) -> Int {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch state {
            case .done:
                return index - bytes.startIndex
            case .data(let remaining):
                let take = min(remaining, bytes.endIndex - index)
                payload.append(contentsOf: bytes[index..<(index + take)])
                index += take
                state = remaining == take ? .dataEnd : .data(remaining: remaining - take)
            case .size, .dataEnd, .trailer:
                let byte = bytes[index]
                index += 1
                guard byte == UInt8(ascii: "\n") else {
                    line.append(byte)
                    guard line.count <= Self.maxLineBytes else {
                        throw LoadTestError("malformed chunked response: a chunk header line longer than \(Self.maxLineBytes) bytes")
                    }
                    continue
                }
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                try endLine()
                line.removeAll(keepingCapacity: true)
            }
        }
        return index - bytes.startIndex
    }

    private mutating func endLine() throws(LoadTestError) {
        switch state {
        case .size:
            let digits = line.prefix { $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            guard !digits.isEmpty, digits.count <= 15, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else {
                throw LoadTestError("malformed chunked response: chunk size line '\(String(decoding: line.prefix(40), as: UTF8.self))'")
            }
            state = size == 0 ? .trailer : .data(remaining: size)
        case .dataEnd:
            guard line.isEmpty else { throw LoadTestError("malformed chunked response: chunk data longer than its declared size") }
            state = .size
        case .trailer:
            if line.isEmpty { state = .done }
        case .data, .done:
            preconditionFailure("line ended outside a header line")
        }
    }
}
