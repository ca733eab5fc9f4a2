import CJansson
import Foundation
import JSON
import Server
import Testing

/// Why JSON is parsed with jansson and written in Swift: times both directions against the
/// alternatives on a 100 KB chat request and on a streamed chunk. Opt-in (ENTROPYINFER_BENCH=1);
/// prints its numbers.
@Suite("JSON benchmark", .serialized, .enabled(if: ProcessInfo.processInfo.environment["ENTROPYINFER_BENCH"] == "1"))
struct JSONBenchmarkTests {
    static func chatRequest() -> [UInt8] {
        let content = String(repeating: "Grüße, 漢字 and \"quotes\" \\ 😀 text\n", count: 24)
        let messages = (0..<109).map { index in
            #"{"role": "\#(index % 2 == 0 ? "user" : "assistant")", "content": \#(JSONValue.string(content).jsonText)}"#
        }
        return Array(#"{"model": "m", "temperature": 0.7, "messages": [\#(messages.joined(separator: ","))]}"#.utf8)
    }

    static func time(_ iterations: Int, _ body: () -> Void) -> Double {
        body()
        let start = MonotonicClock.now()
        for _ in 0..<iterations { body() }
        return (MonotonicClock.now() - start) / Double(iterations) * 1e6
    }

    /// Builds a jansson tree for `value` (what serializing through jansson would need).
    static func janssonTree(_ value: JSONValue) -> UnsafeMutablePointer<json_t> {
        switch value {
        case .null: return json_null()
        case .bool(let flag): return flag ? json_true() : json_false()
        case .int(let number): return json_integer(json_int_t(number))
        case .double(let number): return json_real(number)
        case .string(let text): return text.withCString { json_stringn($0, text.utf8.count) }
        case .array(let elements):
            let array = json_array()!
            for element in elements { json_array_append_new(array, janssonTree(element)) }
            return array
        case .object(let object):
            let result = json_object()!
            for (key, element) in object { json_object_set_new(result, key, janssonTree(element)) }
            return result
        }
    }

    @Test func parseAndSerialize() throws {
        let bytes = Self.chatRequest()
        let data = Data(bytes)
        let value = try JSONValue.parse(bytes)
        print("BENCH request of \(bytes.count) bytes")
        let loadOnly = Self.time(50) {
            var error = json_error_t()
            let root = bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { json_loadb($0.baseAddress, $0.count, 0, &error) }
            }
            json_decref(root)
        }
        print("BENCH parse: json_loadb alone \(Int(loadOnly)) µs")
        print("BENCH parse: jansson → JSONValue \(Int(Self.time(50) { _ = try? JSONValue.parse(bytes) })) µs; Foundation JSONSerialization \(Int(Self.time(50) { _ = try? JSONSerialization.jsonObject(with: data) })) µs")
        print("BENCH serialize 100 KB: Swift writer \(Int(Self.time(50) { _ = value.serialized() })) µs; jansson tree + json_dumps \(Int(Self.time(50) { let tree = Self.janssonTree(value); free(json_dumps(tree, size_t(JSON_COMPACT))); json_decref(tree) })) µs")
        let chunk: JSONValue = ["id": "chatcmpl-abcdefghijklmnopqrstuvwx", "object": "chat.completion.chunk", "created": 1_790_000_000,
                                "model": "smollm2-135m-instruct",
                                "choices": [["index": 0, "delta": ["content": " word"], "logprobs": nil, "finish_reason": nil]]]
        print("BENCH serialize one SSE chunk: Swift writer \(String(format: "%.2f", Self.time(20000) { _ = SSE.event(chunk) })) µs; jansson tree + json_dumps \(String(format: "%.2f", Self.time(20000) { let tree = Self.janssonTree(chunk); free(json_dumps(tree, size_t(JSON_COMPACT))); json_decref(tree) })) µs")
        let tree = Self.janssonTree(.double(0.1))
        let text = String(cString: json_dumps(tree, size_t(JSON_ENCODE_ANY)))
        json_decref(tree)
        print("BENCH jansson prints 0.1 as \(text); the Swift writer as \(JSONValue.double(0.1).jsonText)")
        #expect(text != "0.1")
    }
}
