/// One server-sent event: the `data` lines joined by "\n", and the `event` type if any.
public struct SSEEvent: Sendable, Equatable {
    public var data: String
    public var type: String?

    public init(data: String, type: String? = nil) { self.data = data; self.type = type }
}

/// Incremental parser of a `text/event-stream` body (the WHATWG HTML "event stream
/// interpretation"): lines end in CRLF, LF or CR, split anywhere between calls; lines starting
/// with ":" are comments (keep-alives); an empty line dispatches the event when it has data.
/// `id` and `retry` are ignored (a load test never reconnects).
public struct SSEParser: Sendable {
    /// A line longer than this is refused (an OpenAI chunk is well under 64 KiB; a prompt echo
    /// or logprobs could be larger, so the bound is generous).
    public static let maxLineBytes = 16 << 20

    private var line: [UInt8] = []
    private var afterCarriageReturn = false
    private var data: [UInt8] = []
    private var hasData = false
    private var eventType: String?
    /// Comment lines seen so far (`: keep-alive` and the like).
    public private(set) var commentCount = 0

    public init() {}

    /// Parses `bytes`, returning the events they complete, in order.
    public mutating func consume(_ bytes: some Sequence<UInt8>) throws(LoadTestError) -> [SSEEvent] {
        var events: [SSEEvent] = []
        for byte in bytes {
            if afterCarriageReturn {
                afterCarriageReturn = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"):
                if let event = endLine() { events.append(event) }
            case UInt8(ascii: "\r"):
                afterCarriageReturn = true
                if let event = endLine() { events.append(event) }
            default:
                line.append(byte)
                if line.count > Self.maxLineBytes {
                    throw LoadTestError("malformed event stream: a line longer than \(Self.maxLineBytes) bytes")
                }
            }
        }
        return events
    }

    private mutating func endLine() -> SSEEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            defer { data.removeAll(keepingCapacity: true); hasData = false; eventType = nil }
            guard hasData else { return nil }
            return SSEEvent(data: String(decoding: data, as: UTF8.self), type: eventType)
        }
        if line[0] == UInt8(ascii: ":") {
            commentCount += 1
            return nil
        }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let name = line[..<(colon ?? line.endIndex)]
        var value = colon.map { line[($0 + 1)...] } ?? []
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        if name.elementsEqual("data".utf8) {
            if hasData { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: value)
            hasData = true
        } else if name.elementsEqual("event".utf8) {
            eventType = String(decoding: value, as: UTF8.self)
        }
        return nil
    }
}
