/// Removes stop strings from streamed text: text is released as soon as it cannot be the start
/// of a stop string; a complete stop string ends the output there (it is never emitted).
///
/// Matching works on UTF-8 bytes (as OpenAI-compatible servers do), so "\n" stops inside "\r\n".
/// Input text is valid UTF-8 and stop strings begin with a lead byte, so every cut falls on a
/// scalar boundary.
public struct StopStringFilter: Sendable {
    public let stops: [[UInt8]]
    private var held: [UInt8] = []
    /// Set once a stop string matched; nothing more is accepted.
    public private(set) var matched: String?

    public init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }.map { Array($0.utf8) }
    }

    /// Feeds more text; returns what may be emitted now.
    public mutating func push(_ text: String) -> String {
        guard matched == nil else { return "" }
        guard !stops.isEmpty else { return text }
        held.append(contentsOf: text.utf8)
        var earliest: (offset: Int, stop: [UInt8])?
        for stop in stops {
            if let offset = firstOccurrence(of: stop, in: held), earliest == nil || offset < earliest!.offset {
                earliest = (offset, stop)
            }
        }
        if let earliest {
            matched = String(decoding: earliest.stop, as: UTF8.self)
            let released = String(decoding: held[..<earliest.offset], as: UTF8.self)
            held.removeAll()
            return released
        }
        let keep = longestStopPrefixSuffix()
        let released = String(decoding: held[..<(held.count - keep)], as: UTF8.self)
        held.removeFirst(held.count - keep)
        return released
    }

    /// Releases whatever is held (generation ended for another reason).
    public mutating func finish() -> String {
        defer { held.removeAll() }
        return matched == nil ? String(decoding: held, as: UTF8.self) : ""
    }

    private func firstOccurrence(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        outer: for start in 0...(haystack.count - needle.count) {
            for index in 0..<needle.count where haystack[start + index] != needle[index] { continue outer }
            return start
        }
        return nil
    }

    /// Length of the longest suffix of `held` that is a proper prefix of some stop string.
    private func longestStopPrefixSuffix() -> Int {
        var best = 0
        for stop in stops {
            let limit = min(stop.count - 1, held.count)
            var length = limit
            while length > best {
                if held.suffix(length).elementsEqual(stop.prefix(length)) { best = length; break }
                length -= 1
            }
        }
        return best
    }
}
