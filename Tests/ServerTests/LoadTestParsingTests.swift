import Foundation
import JSON
import LoadGeneration
import Testing

/// The load-test client's incremental parsers: HTTP chunked framing, response heads, the SSE
/// event stream and the reading of OpenAI stream chunks, each fed in pieces split everywhere.
@Suite("LoadTest parsing")
struct LoadTestParsingTests {
    /// A chunked body with an extension, a chunk holding a CRLF of its own, and a trailer field.
    static let chunkedBody = Array("7;name=value\r\ndata: a\r\n4\r\n\r\n\r\n\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT".utf8)
    static let chunkedPayload = Array("data: a\r\n\r\n0123456789abcdef".utf8)

    @Test func chunkedDecodingIsTheSameForEverySplitPoint() throws {
        for first in 0...Self.chunkedBody.count {
            for second in first...Self.chunkedBody.count where second == first || second == Self.chunkedBody.count || (second - first) % 3 == 0 {
                var decoder = ChunkedDecoder()
                var payload: [UInt8] = []
                var consumed = 0
                for range in [0..<first, first..<second, second..<Self.chunkedBody.count] {
                    consumed += try decoder.decode(Self.chunkedBody[range], into: &payload)
                }
                #expect(payload == Self.chunkedPayload, "split at \(first), \(second)")
                #expect(decoder.isComplete)
                // Everything up to the trailer's blank line is read; "NEXT" is not.
                #expect(consumed == Self.chunkedBody.count - 4, "split at \(first), \(second)")
            }
        }
    }

    @Test func chunkedDecodingByteByByte() throws {
        var decoder = ChunkedDecoder()
        var payload: [UInt8] = []
        for index in Self.chunkedBody.indices where !decoder.isComplete {
            try decoder.decode(Self.chunkedBody[index...index], into: &payload)
        }
        #expect(payload == Self.chunkedPayload)
        #expect(decoder.isComplete)
    }

    @Test func malformedChunkedFramingIsAnError() {
        for body in ["zz\r\nabc", "3\r\nabcdef\r\n", String(repeating: "1", count: 5000)] {
            var decoder = ChunkedDecoder()
            var payload: [UInt8] = []
            #expect(throws: LoadTestError.self, "\(body.prefix(20))") { try decoder.decode(Array(body.utf8)[...], into: &payload) }
        }
    }

    static let streamedResponse = Array(("HTTP/1.1 100 Continue\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "10\r\ndata: {\"n\": 1}\n\n\r\n"
        + "e\r\n: keep-alive\n\n\r\n"
        + "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n").utf8)

    @Test func responseParserFindsHeadAndBodyForEverySplitPoint() throws {
        for split in 0...Self.streamedResponse.count {
            var parser = HTTPResponseParser()
            var body = try parser.consume(Self.streamedResponse[..<split])
            body += try parser.consume(Self.streamedResponse[split...])
            #expect(parser.head?.status == 200, "split at \(split)")
            #expect(parser.head?.header("content-type") == "text/event-stream")
            #expect(parser.isComplete)
            #expect(String(decoding: body, as: UTF8.self) == "data: {\"n\": 1}\n\n: keep-alive\n\ndata: [DONE]\n\n", "split at \(split)")
        }
    }

    @Test func responseParserFraming() throws {
        var withLength = HTTPResponseParser()
        let body = try withLength.consume(Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\nbusy!extra".utf8)[...])
        #expect(withLength.head?.status == 503 && body == Array("busy!".utf8) && withLength.isComplete)

        var untilClose = HTTPResponseParser()
        let partial = try untilClose.consume(Array("HTTP/1.0 200 OK\nContent-Type: text/plain\n\nhello".utf8)[...])
        #expect(partial == Array("hello".utf8) && !untilClose.isComplete)
        try untilClose.finish()
        #expect(untilClose.isComplete)

        var cutShort = HTTPResponseParser()
        _ = try cutShort.consume(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8)[...])
        #expect(throws: LoadTestError.self) { try cutShort.finish() }

        var silent = HTTPResponseParser()
        #expect(throws: LoadTestError.self) { try silent.finish() }

        var notHTTP = HTTPResponseParser()
        #expect(throws: LoadTestError.self) { _ = try notHTTP.consume(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8)[...]) }
    }

    static let eventStream = ": comment first\r\ndata: {\"a\":1}\r\n\r\n"
        + "event: ping\ndata\n\n"
        + "data: line one\rdata:line two\r\r"
        + ":keep-alive\n\n"
        + "id: 7\nretry: 100\n\n"
        + "data: [DONE]\n\n"

    static let expectedEvents = [SSEEvent(data: "{\"a\":1}"), SSEEvent(data: "", type: "ping"),
                                 SSEEvent(data: "line one\nline two"), SSEEvent(data: "[DONE]")]

    @Test func sseEventsAreTheSameForEverySplitPoint() throws {
        let bytes = Array(Self.eventStream.utf8)
        for first in 0...bytes.count {
            for second in stride(from: first, through: bytes.count, by: 5) {
                var parser = SSEParser()
                var events: [SSEEvent] = []
                for range in [0..<first, first..<second, second..<bytes.count] { events += try parser.consume(bytes[range]) }
                #expect(events == Self.expectedEvents, "split at \(first), \(second)")
                #expect(parser.commentCount == 2)
            }
        }
    }

    @Test func sseCarriageReturnLineFeedSplitAcrossReads() throws {
        // A CR ends a line; the LF arriving in the next read must not end another (empty) line.
        var parser = SSEParser()
        var events = try parser.consume(Array("data: x\r".utf8))
        events += try parser.consume(Array("\ndata: y\r".utf8))
        events += try parser.consume(Array("\n\r\n".utf8))
        #expect(events == [SSEEvent(data: "x\ny")])
    }

    @Test func chatChunkReaderCountsTextEventsAndReadsUsage() throws {
        var reader = ChatChunkReader(keepsContent: true)
        let events: [(String, Double)] = [
            (#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null}}],"usage":null}"#, 1.0),
            (#"{"choices":[{"index":0,"delta":{"content":"Hel"}}],"usage":null}"#, 1.5),
            (#"{"choices":[{"index":0,"delta":{"content":""}}]}"#, 1.6),
            (#"{"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}"#, 1.7),
            (#"{"choices":[{"index":0,"delta":{"content":"lo"}}]}"#, 2.0),
            (#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#, 2.1),
            (#"{"choices":[],"usage":{"prompt_tokens":30,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":16}}}"#, 2.2),
            ("[DONE]", 2.3),
            (#"{"choices":[{"index":0,"delta":{"content":"late"}}]}"#, 2.4),
        ]
        for (data, time) in events { try reader.read(SSEEvent(data: data), at: time) }
        #expect(reader.contentTimes == [1.5, 1.7, 2.0])
        #expect(reader.content == "Hello")
        #expect(reader.completionTokens == 3 && reader.promptTokens == 30 && reader.cachedTokens == 16)
        #expect(reader.doneTime == 2.3)
    }

    @Test func chatChunkReaderFailures() {
        var reader = ChatChunkReader()
        #expect(throws: RequestFailure(.stream, "context too long")) {
            try reader.read(SSEEvent(data: #"{"error":{"message":"context too long","code":400}}"#), at: 0)
        }
        #expect { try reader.read(SSEEvent(data: "{not json"), at: 0) } throws: { ($0 as? RequestFailure)?.kind == .protocolViolation }
    }

    @Test func completionsTextCounts() throws {
        var reader = ChatChunkReader(keepsContent: true)
        try reader.read(SSEEvent(data: #"{"choices":[{"index":0,"text":" word"}]}"#), at: 4)
        #expect(reader.contentTimes == [4] && reader.content == " word")
    }
}
