import Foundation
import JSON

/// Server-sent event framing (the subset OpenAI streams use).
public enum SSE {
    /// `data: <compact json>\n\n`. Compact JSON has no raw newlines, so one `data:` line suffices.
    public static func event(_ value: JSONValue) -> [UInt8] {
        var bytes = Array("data: ".utf8)
        bytes += value.serialized()
        bytes += [UInt8(ascii: "\n"), UInt8(ascii: "\n")]
        return bytes
    }

    /// The stream's last event.
    public static let done: [UInt8] = Array("data: [DONE]\n\n".utf8)

    /// A comment line; clients ignore it, proxies and client read timeouts see traffic.
    public static let keepAlive: [UInt8] = Array(": keep-alive\n\n".utf8)

    /// Splits a complete SSE body into its `data:` payloads, checking the framing: every event
    /// is `data: …` lines ending in a blank line; comment lines start with ":". Used by tests.
    public static func dataPayloads(_ body: String) -> (payloads: [String], comments: Int, wellFormed: Bool) {
        var payloads: [String] = []
        var comments = 0
        var wellFormed = body.isEmpty || body.hasSuffix("\n\n")
        for block in body.components(separatedBy: "\n\n") where !block.isEmpty {
            var data: [String] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") {
                    comments += 1
                } else if line.hasPrefix("data: ") {
                    data.append(String(line.dropFirst(6)))
                } else {
                    wellFormed = false
                }
            }
            if !data.isEmpty { payloads.append(data.joined(separator: "\n")) }
        }
        return (payloads, comments, wellFormed)
    }
}
