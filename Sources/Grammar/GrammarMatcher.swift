import Sampling

/// One constrained generation's grammar state: which tokens may come next (`fillMask`) and
/// what the state becomes once one is chosen (`accept`). One per request, owned by the engine
/// thread; not thread-safe. Requests with the same grammar may share `GrammarTables`.
///
/// A mask is computed by walking the vocabulary's `TokenTrie` depth first through the grammar's
/// lazily built automaton (`GrammarAutomaton`): a trie node's byte moves the state of its parent,
/// a subtree is skipped as soon as the state is dead, and every token ending at a live node is
/// allowed. Masks are also cached by state in the tables (most steps inside a JSON string or
/// number return to a state seen before), so a repeated state costs one dictionary lookup.
public final class GrammarMatcher {
    /// The automaton and mask cache, possibly shared with other requests with this grammar.
    public let tables: GrammarTables
    public var grammar: Grammar { tables.grammar }
    public var trie: TokenTrie { tables.trie }
    public var endOfGenerationTokens: [Int32] { tables.endOfGenerationTokens }
    private var automaton: GrammarAutomaton { tables.automaton }
    /// Where the output stands: an automaton state (by id, and by value to re-enter it after the
    /// shared automaton starts over) and an unfinished UTF-8 sequence.
    private var stateID: Int32
    private var stateValue: GrammarState
    private var generation: Int
    private var pendingValue: UInt32 = 0
    private var pendingRemaining: UInt8 = 0
    /// Masks this matcher computed by walking the trie, and masks it found cached (for tests and
    /// statistics).
    public private(set) var masksComputed = 0
    public private(set) var masksFromCache = 0

    /// A matcher with tables of its own.
    public convenience init(grammar: Grammar, trie: TokenTrie, endOfGenerationTokens: some Sequence<Int32>) {
        self.init(tables: GrammarTables(grammar: grammar, trie: trie, endOfGenerationTokens: endOfGenerationTokens))
    }

    /// A matcher at the start of the grammar, using (and filling) shared tables.
    public init(tables: GrammarTables) {
        self.tables = tables
        stateID = tables.automaton.initialState()
        stateValue = tables.automaton.states[Int(stateID)]
        generation = tables.generation
    }

    /// What has been accepted is a sentence of the grammar: end-of-generation is allowed.
    public var isComplete: Bool { pendingRemaining == 0 && stateValue.isComplete }
    /// Complete, and nothing more can follow: generation should stop here.
    public var isTerminated: Bool { pendingRemaining == 0 && stateValue.isTerminated }

    /// The recogniser's state (stacks and pending sequence), for the reference and tests.
    var state: GrammarState {
        var state = stateValue
        state.partialValue = pendingValue
        state.partialRemaining = pendingRemaining
        return state
    }

    /// The current state's id in the shared automaton (re-entered if it started over).
    private func currentStateID() -> Int32 {
        if generation != tables.generation {
            stateID = automaton.intern(stateValue)
            generation = tables.generation
        }
        return stateID
    }

    /// Sets `mask` to the tokens allowed next: those whose bytes keep the output a prefix of a
    /// sentence of the grammar, plus the end-of-generation tokens when the output is complete.
    /// `mask` must be built for the trie's vocabulary size; after the first calls it does not
    /// allocate (a cached mask is shared, copy-on-write).
    public func fillMask(_ mask: inout TokenMask) {
        precondition(mask.vocabularySize == trie.vocabularySize, "token mask built for another vocabulary")
        let state = currentStateID()
        let key = Int(state) << 32 | Int(pendingRemaining) << 24 | Int(pendingValue)
        if let cached = tables.cachedMask(key) {
            masksFromCache += 1
            mask = cached
            return
        }
        masksComputed += 1
        mask.disallowAll()
        walk(node: 0, state: state, pendingValue: pendingValue, pendingRemaining: pendingRemaining, mask: &mask)
        if isComplete {
            for token in endOfGenerationTokens { mask.allow(token) }
        }
        tables.storeMask(mask, key: key)
        tables.restartIfNeeded()
    }

    /// Advances the state by a token. Returns false, leaving the state unchanged, when the
    /// grammar does not allow it (an end-of-generation token is allowed once complete and does
    /// not change the state).
    @discardableResult
    public func accept(_ token: Int32) -> Bool {
        if endOfGenerationTokens.contains(token) { return isComplete }
        guard let bytes = trie.bytes(of: token) else { return false }
        return accept(bytes: bytes)
    }

    /// Advances the state by raw output bytes (nothing changes when they are not allowed).
    @discardableResult
    public func accept(bytes: [UInt8]) -> Bool {
        var current = (state: currentStateID(), pendingValue: pendingValue, pendingRemaining: pendingRemaining)
        for byte in bytes {
            guard let next = automaton.next(current.state, current.pendingValue, current.pendingRemaining, byte: byte) else {
                return false
            }
            current = next
        }
        (stateID, pendingValue, pendingRemaining) = current
        stateValue = automaton.states[Int(stateID)]
        tables.restartIfNeeded()
        return true
    }

    /// Back to the state before any output.
    public func reset() {
        stateID = automaton.initialState()
        stateValue = automaton.states[Int(stateID)]
        generation = tables.generation
        pendingValue = 0
        pendingRemaining = 0
    }

    /// `state` after `bytes` by the recogniser alone (no automaton), or nil when rejected.
    static func advance(_ state: GrammarState, by bytes: [UInt8], stepper: GrammarStepper) -> GrammarState? {
        let level = stepper.load(state)
        var current = (levelStart: level.lowerBound, levelEnd: level.upperBound,
                       partialValue: state.partialValue, partialRemaining: state.partialRemaining)
        for byte in bytes {
            guard let next = stepper.step(levelStart: current.levelStart, levelEnd: current.levelEnd,
                                          partialValue: current.partialValue, partialRemaining: current.partialRemaining,
                                          byte: byte) else { return nil }
            current = next
        }
        return stepper.state(levelStart: current.levelStart, levelEnd: current.levelEnd,
                             partialValue: current.partialValue, partialRemaining: current.partialRemaining)
    }

    /// Depth-first over the trie: a child is visited only when its byte keeps the output alive,
    /// and every token ending at a visited node is allowed.
    private func walk(node: Int32, state: Int32, pendingValue: UInt32, pendingRemaining: UInt8, mask: inout TokenMask) {
        let firstChild = Int(trie.childStart[Int(node)])
        let childEnd = firstChild + Int(trie.childCount[Int(node)])
        for childIndex in firstChild..<childEnd {
            guard let next = automaton.next(state, pendingValue, pendingRemaining, byte: trie.childBytes[childIndex]) else { continue }
            let child = Int(trie.childNodes[childIndex])
            for index in Int(trie.tokenStart[child])..<Int(trie.tokenStart[child + 1]) {
                mask.allow(trie.tokens[index])
            }
            if trie.childCount[child] > 0 {
                walk(node: Int32(child), state: next.state, pendingValue: next.pendingValue,
                     pendingRemaining: next.pendingRemaining, mask: &mask)
            }
        }
    }

    /// The mask computed the plain way, token by token (each token's bytes run through the
    /// recogniser from the current state, no trie, no cache): the reference `fillMask` is
    /// tested against.
    public func referenceMask() -> TokenMask {
        let reference = GrammarStepper(grammar: grammar)
        let state = self.state
        var mask = TokenMask(vocabularySize: trie.vocabularySize, allowingAll: false)
        for token in 0..<Int32(truncatingIfNeeded: trie.vocabularySize) {
            guard let bytes = trie.bytes(of: token), Self.advance(state, by: bytes, stepper: reference) != nil else { continue }
            mask.allow(token)
        }
        if state.isComplete {
            for token in endOfGenerationTokens { mask.allow(token) }
        }
        return mask
    }
}
