/// A piece of the input between special-token matches.
enum TextFragment: Equatable {
    /// Plain text: a byte range of the input, tokenized by the model's algorithm.
    case text(Range<Int>)
    /// A special token matched as a whole string.
    case token(Int32)
}

/// Cuts the input at occurrences of special tokens before any pre-tokenization, as llama.cpp's
/// `tokenizer_st_partition` does.
///
/// Candidates are control, user-defined and unknown tokens; user-defined tokens are always
/// matched, control and unknown ones only when special tokens are parsed. Longer tokens win:
/// candidates are taken by decreasing length, each at its leftmost occurrences that do not
/// overlap a token already taken. One pass over the input finds every occurrence through a byte
/// trie, so the cost does not grow with the number of special tokens.
struct SpecialTokenSplitter: Sendable {
    private struct Node: Sendable {
        var children: [UInt8: Int32] = [:]
        /// The token ending at this node, if any.
        var token: Int32 = -1
        var alwaysMatched = false
    }

    private let nodes: [Node]
    /// Bytes that start some candidate (quick reject for every other position).
    private let startBytes: [Bool]
    /// Number of candidate tokens.
    private let candidateCount: Int

    init(tokens: [String], types: [TokenType]) {
        var nodes = [Node()]
        var candidateCount = 0
        var startBytes = [Bool](repeating: false, count: 256)
        for (index, type) in types.enumerated() where type == .control || type == .userDefined || type == .unknown {
            let text = tokens[index].utf8
            guard let first = text.first else { continue }
            startBytes[Int(first)] = true
            var node = 0
            for byte in text {
                if let child = nodes[node].children[byte] {
                    node = Int(child)
                } else {
                    nodes.append(Node())
                    nodes[node].children[byte] = Int32(nodes.count - 1)
                    node = nodes.count - 1
                }
            }
            // Two tokens with the same text: the later id wins, as in llama.cpp's token_to_id.
            if nodes[node].token < 0 { candidateCount += 1 }
            nodes[node].token = Int32(index)
            nodes[node].alwaysMatched = type == .userDefined
        }
        self.nodes = nodes
        self.startBytes = startBytes
        self.candidateCount = candidateCount
    }

    var isEmpty: Bool { candidateCount == 0 }

    /// The fragments of `bytes`, in order. Without special tokens in the text, one `.text`
    /// fragment (none for empty input).
    func split(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [TextFragment] {
        guard !bytes.isEmpty else { return [] }
        struct Match { var start: Int; var length: Int; var token: Int32 }
        var matches: [Match] = []
        if !isEmpty {
            for start in 0..<bytes.count where startBytes[Int(bytes[start])] {
                var node = 0
                var position = start
                while position < bytes.count, let child = nodes[node].children[bytes[position]] {
                    node = Int(child)
                    position += 1
                    let candidate = nodes[node]
                    if candidate.token >= 0, parseSpecial || candidate.alwaysMatched {
                        matches.append(Match(start: start, length: position - start, token: candidate.token))
                    }
                }
            }
        }
        guard !matches.isEmpty else { return [.text(0..<bytes.count)] }

        matches.sort { a, b in
            if a.length != b.length { return a.length > b.length }
            if a.token != b.token { return a.token < b.token }
            return a.start < b.start
        }
        var taken = [Bool](repeating: false, count: bytes.count)
        var accepted: [Match] = []
        for match in matches {
            let range = match.start..<(match.start + match.length)
            guard !range.contains(where: { taken[$0] }) else { continue }
            for index in range { taken[index] = true }
            accepted.append(match)
        }
        accepted.sort { $0.start < $1.start }

        var fragments: [TextFragment] = []
        var textStart = 0
        for match in accepted {
            if match.start > textStart { fragments.append(.text(textStart..<match.start)) }
            fragments.append(.token(match.token))
            textStart = match.start + match.length
        }
        if textStart < bytes.count { fragments.append(.text(textStart..<bytes.count)) }
        return fragments
    }
}
