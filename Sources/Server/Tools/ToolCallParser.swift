import JSON

/// Splits model output, piece by piece as it streams, into content and tool calls written in
/// `ToolCallSyntax` (several calls allowed, text around them too).
///
/// The result does not depend on how the text was cut into pieces: the streamed answer and the
/// whole answer fold (`ToolCallTranscript`) to the same content and calls.
///
/// - Content is released as soon as it cannot be the start of `<tool_call>`; markup of a call is
///   never released as content. Whitespace touching a call (before `<tool_call>`, after
///   `</tool_call>`) is dropped, as is whitespace ending an answer that made calls. Names must
///   be function names (`ToolRequest.isValidName`).
/// - A call whose JSON starts `{"name": "<name>", "arguments": {` (any whitespace) streams:
///   `.callStarted` as soon as the name is known, then the arguments object's text as it comes
///   (its exact bytes, so the arguments are the model's JSON text). The call ends where the
///   arguments object closes (an unbalanced one ends at `</tool_call>` or at the end of output).
/// - Any other call body is held until `</tool_call>` and then parsed whole: an object with a
///   string `name` and object `arguments` (or a string of JSON) is a call, anything else is
///   returned as content, markup included — the model wrote text, not a call.
/// - `parallelCalls == false`: everything after the first call is dropped.
struct ToolCallParser {
    private enum State {
        /// Outside calls.
        case content
        /// After `<tool_call>`, before the call's name is known.
        case header
        /// Inside the arguments object of a streaming call.
        case arguments
        /// After the arguments object, until `</tool_call>`.
        case tail
        /// A call body that is not in the streaming form, until `</tool_call>`.
        case whole
        /// After the first call when parallel calls are off.
        case ignoring
    }

    let parallelCalls: Bool
    private var state = State.content
    /// Bytes received but not yet decided on in the current state.
    private var pending: [UInt8] = []
    /// Whitespace at the end of released content, held until something else follows it.
    private var heldWhitespace: [UInt8] = []
    private var skipsLeadingWhitespace = false
    private var scanner = JSONExtentScanner()
    private(set) var callCount = 0

    init(parallelCalls: Bool = true) {
        self.parallelCalls = parallelCalls
    }

    /// Feeds the next piece of output (valid UTF-8); returns what is certain now.
    mutating func push(_ text: String) -> [ToolCallEvent] {
        pending.append(contentsOf: text.utf8)
        var events: [ToolCallEvent] = []
        while step(&events) {}
        return events
    }

    /// The output ended: releases what was held.
    mutating func finish() -> [ToolCallEvent] {
        var events: [ToolCallEvent] = []
        while step(&events) {}
        switch state {
        case .content:
            releaseContent(pending[...], into: &events)
            if callCount == 0, !heldWhitespace.isEmpty { events.append(.content(String(decoding: heldWhitespace, as: UTF8.self))) }
        case .header, .whole:
            // An unfinished call: a complete JSON body still counts, anything else is text.
            resolveWhole(pending[...], closed: false, into: &events)
        case .arguments, .tail, .ignoring:
            break
        }
        pending.removeAll()
        heldWhitespace.removeAll()
        return events
    }

    /// One decision on `pending`; false when more input is needed.
    private mutating func step(_ events: inout [ToolCallEvent]) -> Bool {
        switch state {
        case .content:
            if let start = Self.firstOccurrence(of: ToolCallSyntax.openBytes, in: pending) {
                releaseContent(pending[..<start], into: &events)
                pending.removeFirst(start + ToolCallSyntax.openBytes.count)
                state = .header
                return true
            }
            let keep = Self.longestSuffixPrefix(of: pending, matching: ToolCallSyntax.openBytes)
            releaseContent(pending[..<(pending.count - keep)], into: &events)
            pending.removeFirst(pending.count - keep)
            return false
        case .header:
            switch StreamingCallHeader.match(pending) {
            case .needMore:
                return false
            case .mismatch:
                state = .whole
                return true
            case .matched(let name, let argumentsStart):
                heldWhitespace.removeAll()
                events.append(.callStarted(index: callCount, name: name))
                callCount += 1
                pending.removeFirst(argumentsStart)
                scanner = JSONExtentScanner()
                state = .arguments
                return true
            }
        case .arguments:
            var lookahead = scanner
            let valueEnd = lookahead.end(in: pending)
            let searched = valueEnd ?? pending.count
            let closeAt = Self.firstOccurrence(of: ToolCallSyntax.closeBytes, in: pending[..<searched])
            let release: Int
            let ended: Bool
            if let closeAt {
                release = closeAt; ended = true
            } else if let valueEnd {
                release = valueEnd; ended = true
            } else {
                release = pending.count - Self.longestSuffixPrefix(of: pending, matching: ToolCallSyntax.closeBytes)
                ended = false
            }
            if release > 0 {
                _ = scanner.end(in: pending[..<release])
                events.append(.arguments(index: callCount - 1, String(decoding: pending[..<release], as: UTF8.self)))
                pending.removeFirst(release)
            }
            if ended { state = .tail }
            return ended
        case .tail:
            if let closeAt = Self.firstOccurrence(of: ToolCallSyntax.closeBytes, in: pending) {
                pending.removeFirst(closeAt + ToolCallSyntax.closeBytes.count)
                endCall()
                return true
            }
            let keep = Self.longestSuffixPrefix(of: pending, matching: ToolCallSyntax.closeBytes)
            pending.removeFirst(pending.count - keep)
            return false
        case .whole:
            guard let closeAt = Self.firstOccurrence(of: ToolCallSyntax.closeBytes, in: pending) else { return false }
            resolveWhole(pending[..<closeAt], closed: true, into: &events)
            pending.removeFirst(closeAt + ToolCallSyntax.closeBytes.count)
            if state != .ignoring { state = .content }
            return true
        case .ignoring:
            pending.removeAll()
            return false
        }
    }

    private mutating func endCall() {
        skipsLeadingWhitespace = true
        state = parallelCalls ? .content : .ignoring
    }

    /// A call body read whole: a call if it is `{"name": string, "arguments": object}` (or
    /// arguments as a string of a JSON object), else content with its markup.
    private mutating func resolveWhole(_ body: ArraySlice<UInt8>, closed: Bool, into events: inout [ToolCallEvent]) {
        if let value = try? JSONValue.parse(Array(body)), case .object(let object) = value,
           case .string(let name)? = object["name"], ToolRequest.isValidName(name), let arguments = Self.argumentsText(object["arguments"]) {
            heldWhitespace.removeAll()
            events.append(.callStarted(index: callCount, name: name))
            events.append(.arguments(index: callCount, arguments))
            callCount += 1
            endCall()
            return
        }
        var text = ToolCallSyntax.openBytes + body
        if closed { text += ToolCallSyntax.closeBytes }
        state = .content
        releaseContent(text[...], into: &events)
    }

    private static func argumentsText(_ value: JSONValue?) -> String? {
        switch value {
        case .object?: return value!.jsonText
        case .string(let text)?:
            guard let parsed = try? JSONValue.parse(text), case .object = parsed else { return nil }
            return text
        default: return nil
        }
    }

    /// Releases content, holding trailing whitespace back and skipping leading whitespace right
    /// after a call.
    private mutating func releaseContent(_ bytes: ArraySlice<UInt8>, into events: inout [ToolCallEvent]) {
        var bytes = bytes
        if skipsLeadingWhitespace {
            while let first = bytes.first, Self.isWhitespace(first) { bytes.removeFirst() }
            guard !bytes.isEmpty else { return }
            skipsLeadingWhitespace = false
        }
        guard !bytes.isEmpty else { return }
        guard let lastText = bytes.lastIndex(where: { !Self.isWhitespace($0) }) else {
            heldWhitespace += bytes
            return
        }
        let text = heldWhitespace + bytes[...lastText]
        heldWhitespace = Array(bytes[(lastText + 1)...])
        events.append(.content(String(decoding: text, as: UTF8.self)))
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
    }

    static func firstOccurrence(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var start = haystack.startIndex
        while start + needle.count <= haystack.endIndex {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
            start += 1
        }
        return nil
    }

    static func firstOccurrence(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        firstOccurrence(of: needle, in: haystack[...])
    }

    /// Length of the longest suffix of `bytes` that is a proper prefix of `marker`.
    static func longestSuffixPrefix(of bytes: [UInt8], matching marker: [UInt8]) -> Int {
        var length = min(marker.count - 1, bytes.count)
        while length > 0 {
            if bytes.suffix(length).elementsEqual(marker.prefix(length)) { return length }
            length -= 1
        }
        return 0
    }
}

/// The start of a call body in the streaming form: `{"name": "<name>", "arguments": ` up to the
/// `{` of the arguments object, any JSON whitespace between the tokens. Names are function
/// names (`ToolRequest.isValidName`): any other byte in the name is a mismatch.
enum StreamingCallHeader {
    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    enum Match: Equatable {
        case needMore
        case mismatch
        /// `argumentsStart` is the offset of the arguments object's `{`.
        case matched(name: String, argumentsStart: Int)
    }

    static func match(_ bytes: [UInt8]) -> Match {
        var index = 0
        func skipWhitespace() {
            while index < bytes.count, ToolCallParser.isWhitespace(bytes[index]) { index += 1 }
        }
        /// nil: matched; otherwise the verdict.
        func literal(_ text: String) -> Match? {
            for byte in text.utf8 {
                guard index < bytes.count else { return .needMore }
                guard bytes[index] == byte else { return .mismatch }
                index += 1
            }
            return nil
        }
        /// Each literal after optional whitespace.
        func tokens(_ texts: [String]) -> Match? {
            for text in texts {
                skipWhitespace()
                if let verdict = literal(text) { return verdict }
            }
            return nil
        }
        if let verdict = tokens(["{", "\"name\"", ":", "\""]) { return verdict }
        let nameStart = index
        while true {
            guard index < bytes.count else { return .needMore }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            guard Self.isNameByte(byte), index - nameStart < 64 else { return .mismatch }
            index += 1
        }
        let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
        index += 1
        if let verdict = tokens([",", "\"arguments\"", ":"]) { return verdict }
        skipWhitespace()
        guard index < bytes.count else { return .needMore }
        guard bytes[index] == UInt8(ascii: "{"), !name.isEmpty else { return .mismatch }
        return .matched(name: name, argumentsStart: index)
    }
}

/// Finds where a JSON object or array that starts at the first byte ends, fed in pieces:
/// tracks nesting and strings (with escapes), nothing else.
struct JSONExtentScanner {
    private var depth = 0
    private var inString = false
    private var escaped = false
    private(set) var ended = false

    /// Consumes `bytes`; returns the offset just past the value's last byte when it ends in them.
    mutating func end(in bytes: some Collection<UInt8>) -> Int? {
        var offset = 0
        for byte in bytes {
            offset += 1
            guard !ended else { return offset - 1 }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 {
                    ended = true
                    return offset
                }
            default: break
            }
        }
        return nil
    }
}
