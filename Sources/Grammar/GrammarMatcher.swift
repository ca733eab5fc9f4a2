import Sampling

/// One constrained generation's grammar state: which tokens may come next (`fillMask`) and
/// what the state becomes once one is chosen (`accept`). One per request, owned by the engine
/// thread; not thread-safe.
///
/// A mask is computed by walking the vocabulary's `TokenTrie` depth first with the parse stacks:
/// a trie node's byte is fed to the stacks of its parent, a subtree is skipped as soon as no
/// stack survives, and every token ending at a surviving node is allowed. Masks are cached by
/// state (most steps inside a JSON string or number return to a state seen before), so a
/// repeated state costs one dictionary lookup.
public final class GrammarMatcher {
    public let grammar: Grammar
    public let trie: TokenTrie
    /// Allowed exactly when the output is complete (`isComplete`).
    public let endOfGenerationTokens: [Int32]
    private let stepper: GrammarStepper
    private(set) var state: GrammarState
    private var cache: [GrammarState: TokenMask] = [:]
    private var cacheOrder: [GrammarState] = []
    /// Masks kept per matcher (each vocabularySize / 8 bytes: 19 KB for Qwen2.5's 151,936 tokens).
    public static let cacheCapacity = 64
    /// Masks computed by walking the trie, and masks served from the cache (for tests and stats).
    public private(set) var masksComputed = 0
    public private(set) var masksFromCache = 0

    public init(grammar: Grammar, trie: TokenTrie, endOfGenerationTokens: some Sequence<Int32>) {
        self.grammar = grammar
        self.trie = trie
        self.endOfGenerationTokens = Array(endOfGenerationTokens)
        stepper = GrammarStepper(grammar: grammar)
        state = stepper.initialState()
    }

    /// What has been accepted is a sentence of the grammar: end-of-generation is allowed.
    public var isComplete: Bool { state.isComplete }
    /// Complete, and nothing more can follow: generation should stop here.
    public var isTerminated: Bool { state.isTerminated }

    /// Sets `mask` to the tokens allowed next: those whose bytes keep the output a prefix of a
    /// sentence of the grammar, plus the end-of-generation tokens when the output is complete.
    /// `mask` must be built for the trie's vocabulary size; after the first calls it does not
    /// allocate (a cached mask is shared, copy-on-write).
    public func fillMask(_ mask: inout TokenMask) {
        precondition(mask.vocabularySize == trie.vocabularySize, "token mask built for another vocabulary")
        if let cached = cache[state] {
            masksFromCache += 1
            mask = cached
            return
        }
        masksComputed += 1
        mask.disallowAll()
        let level = stepper.load(state)
        walk(node: 0, levelStart: level.lowerBound, levelEnd: level.upperBound,
             partialValue: state.partialValue, partialRemaining: state.partialRemaining, mask: &mask)
        if state.isComplete {
            for token in endOfGenerationTokens { mask.allow(token) }
        }
        if cache.count >= Self.cacheCapacity {
            cache[cacheOrder.removeFirst()] = nil
        }
        cache[state] = mask
        cacheOrder.append(state)
    }

    /// Advances the state by a token. Returns false, leaving the state unchanged, when the
    /// grammar does not allow it (an end-of-generation token is allowed once complete and does
    /// not change the state).
    @discardableResult
    public func accept(_ token: Int32) -> Bool {
        if endOfGenerationTokens.contains(token) { return state.isComplete }
        guard token >= 0, Int(token) < trie.vocabularySize, let bytes = trie.bytes(of: token) else { return false }
        return accept(bytes: bytes)
    }

    /// Advances the state by raw output bytes (nothing changes when they are not allowed).
    @discardableResult
    public func accept(bytes: [UInt8]) -> Bool {
        guard let next = Self.advance(state, by: bytes, stepper: stepper) else { return false }
        state = next
        return true
    }

    /// Back to the state before any output (the mask cache is kept: it depends on states only).
    public func reset() {
        state = stepper.initialState()
    }

    /// `state` after `bytes`, or nil when the grammar rejects them.
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

    private func walk(node: Int32, levelStart: Int, levelEnd: Int, partialValue: UInt32, partialRemaining: UInt8,
                      mask: inout TokenMask) {
        let firstChild = Int(trie.childStart[Int(node)])
        let childEnd = firstChild + Int(trie.childCount[Int(node)])
        for childIndex in firstChild..<childEnd {
            let nodeMark = stepper.nodePositions.count
            let levelMark = stepper.levels.count
            guard let next = stepper.step(levelStart: levelStart, levelEnd: levelEnd, partialValue: partialValue,
                                          partialRemaining: partialRemaining, byte: trie.childBytes[childIndex]) else { continue }
            let child = Int(trie.childNodes[childIndex])
            for index in Int(trie.tokenStart[child])..<Int(trie.tokenStart[child + 1]) {
                mask.allow(trie.tokens[index])
            }
            if trie.childCount[child] > 0 {
                walk(node: Int32(child), levelStart: next.levelStart, levelEnd: next.levelEnd,
                     partialValue: next.partialValue, partialRemaining: next.partialRemaining, mask: &mask)
            }
            stepper.truncate(nodes: nodeMark, levels: levelMark)
        }
    }

    /// The mask computed the plain way, token by token (each token's bytes run through the
    /// recogniser from the current state, no trie, no cache): the reference `fillMask` is
    /// tested against.
    public func referenceMask() -> TokenMask {
        let reference = GrammarStepper(grammar: grammar)
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
