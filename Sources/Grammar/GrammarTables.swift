import Sampling

/// What every request constrained by one grammar shares on one vocabulary: the lazily built
/// automaton (`GrammarAutomaton`) and the masks computed so far, by state. The engine keeps a
/// few of these by grammar text, so a client sending the same JSON Schema again finds the
/// transitions and masks of earlier requests ready. Engine thread only; not thread-safe.
public final class GrammarTables {
    public let grammar: Grammar
    public let trie: TokenTrie
    /// Allowed exactly when the output is complete.
    public let endOfGenerationTokens: [Int32]
    let automaton: GrammarAutomaton
    /// Bumped whenever the automaton starts over: matchers re-enter their state by value.
    private(set) var generation = 0
    /// Masks by (state, pending UTF-8 sequence), evicted oldest first.
    private var masks: [Int: TokenMask] = [:]
    private var maskOrder: [Int] = []
    /// Masks kept (each vocabularySize / 8 bytes: 19 KB for Qwen2.5's 151,936 tokens).
    public static let maskCapacity = 64

    public convenience init(grammar: Grammar, trie: TokenTrie, endOfGenerationTokens: some Sequence<Int32>) {
        self.init(grammar: grammar, trie: trie, endOfGenerationTokens: endOfGenerationTokens,
                  maximumStates: GrammarAutomaton.defaultMaximumStates)
    }

    /// `maximumStates`: how many automaton states are kept before it starts over (tests lower it).
    init(grammar: Grammar, trie: TokenTrie, endOfGenerationTokens: some Sequence<Int32>, maximumStates: Int) {
        self.grammar = grammar
        self.trie = trie
        self.endOfGenerationTokens = Array(endOfGenerationTokens)
        automaton = GrammarAutomaton(grammar: grammar, maximumStates: maximumStates)
    }

    func cachedMask(_ key: Int) -> TokenMask? { masks[key] }

    func storeMask(_ mask: TokenMask, key: Int) {
        if masks.count >= Self.maskCapacity { masks[maskOrder.removeFirst()] = nil }
        masks[key] = mask
        maskOrder.append(key)
    }

    /// Starts the automaton over when it grew past its bound (and drops the masks, whose keys
    /// are state ids).
    func restartIfNeeded() {
        guard automaton.needsReset else { return }
        automaton.reset()
        masks.removeAll()
        maskOrder.removeAll()
        generation += 1
    }
}
