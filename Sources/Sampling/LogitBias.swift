/// OpenAI `logit_bias`: a value added to the logit of chosen tokens before anything else
/// (-100 bans a token in practice, +100 all but forces it). Token ids outside the vocabulary are
/// ignored here; the server rejects them before a request gets this far.
struct LogitBias {
    /// (token, bias) sorted by token id, so application order never depends on hashing.
    let entries: [(token: Int32, bias: Float)]

    init(_ bias: [Int32: Float], vocabularySize: Int) {
        entries = bias.filter { $0.key >= 0 && Int($0.key) < vocabularySize && $0.value != 0 }
            .map { (token: $0.key, bias: $0.value) }
            .sorted { $0.token < $1.token }
    }

    var isActive: Bool { !entries.isEmpty }

    func apply(to logits: UnsafeMutablePointer<Float>) {
        for entry in entries {
            logits[Int(entry.token)] += entry.bias
        }
    }
}
