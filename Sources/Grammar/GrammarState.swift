/// Where a matcher stands in its grammar after some bytes: the set of parse stacks still alive
/// plus an unfinished UTF-8 sequence (a token may end in the middle of a character).
///
/// A stack lists element positions from the bottom (outermost rule) to the top; the top is the
/// character class the next character must match, the others are where each enclosing rule
/// continues once the inner one ends. The empty stack means the whole grammar is matched.
/// Stacks are sorted and unique, so equal states compare and hash equal (the mask cache key).
struct GrammarState: Hashable, Sendable {
    var stacks: [[Int32]]
    /// The bits of an unfinished UTF-8 sequence read so far, and how many continuation bytes it
    /// still needs (0: none pending).
    var partialValue: UInt32 = 0
    var partialRemaining: UInt8 = 0

    /// The output so far is a sentence of the grammar (end of generation may come now).
    var isComplete: Bool { partialRemaining == 0 && stacks.first?.isEmpty == true }
    /// Complete, and no character can follow.
    var isTerminated: Bool { isComplete && stacks.count == 1 }
    /// No continuation of the output is in the grammar.
    var isDead: Bool { stacks.isEmpty }
}
