/// A deterministic automaton over the grammar's parse states, built lazily from the pushdown
/// recogniser (`GrammarStepper`), as RE2 builds its DFA: each distinct set of parse stacks gets
/// an id, and a transition (state, character) is computed once, the first time a walk needs it,
/// then read from a table. Walking the vocabulary trie then costs a table read per node: inside
/// a JSON string nearly every token is allowed, and the walk visits most of the trie's nodes, all
/// leading back to the same few states.
///
/// ASCII transitions sit in a flat table (128 per state); other characters and the check "can
/// an unfinished UTF-8 sequence still become an allowed character" in dictionaries. States are
/// stacks without a pending UTF-8 sequence; the pending sequence travels beside the state id.
final class GrammarAutomaton {
    static let dead: Int32 = -1
    private static let unknown: Int32 = -2
    /// States kept at most by default; past it the automaton starts over (see `needsReset`).
    static let defaultMaximumStates = 20_000
    let maximumStates: Int

    private let stepper: GrammarStepper
    private(set) var states: [GrammarState] = []
    private var stateIDs: [GrammarState: Int32] = [:]
    /// `asciiTransitions[state * 128 + byte]`: the next state, `dead`, or `unknown`.
    private var asciiTransitions: [Int32] = []
    /// Per state, its top classes, and the transitions of scalars ≥ 128 by membership
    /// signature (bit i: top class i contains the scalar): all scalars with one signature go to
    /// the same state, so the thousands of CJK characters of a vocabulary cost one computation
    /// per distinct signature (usually one: "any character but a quote or backslash").
    private var topClasses: [[Int32]] = []
    private var signatureTransitions: [[UInt64: Int32]] = []
    /// (state << 21 | scalar) → next state or `dead`, for states with more than 64 top classes.
    private var scalarTransitions: [Int: Int32] = [:]
    /// (state, pending value, remaining, lead flag) → whether some allowed character begins so.
    private var partialAccepted: [Int: Bool] = [:]

    init(grammar: Grammar, maximumStates: Int = defaultMaximumStates) {
        stepper = GrammarStepper(grammar: grammar)
        self.maximumStates = maximumStates
    }

    /// The id of `state` (its pending UTF-8 fields must be zero).
    func intern(_ state: GrammarState) -> Int32 {
        if let id = stateIDs[state] { return id }
        let id = Int32(states.count)
        states.append(state)
        stateIDs[state] = id
        asciiTransitions.append(contentsOf: repeatElement(Self.unknown, count: 128))
        topClasses.append(stepper.topClasses(of: state))
        signatureTransitions.append([:])
        return id
    }

    func initialState() -> Int32 { intern(stepper.initialState()) }

    /// Forgets every state and transition (memory bound); ids handed out before are invalid.
    func reset() {
        states.removeAll()
        stateIDs.removeAll()
        asciiTransitions.removeAll()
        topClasses.removeAll()
        signatureTransitions.removeAll()
        scalarTransitions.removeAll()
        partialAccepted.removeAll()
    }

    var needsReset: Bool { states.count > maximumStates }

    /// The state after one byte of UTF-8 from `state` with a pending sequence, or nil.
    @inline(__always)
    func next(_ state: Int32, _ pendingValue: UInt32, _ pendingRemaining: UInt8, byte: UInt8)
        -> (state: Int32, pendingValue: UInt32, pendingRemaining: UInt8)? {
        if pendingRemaining == 0 {
            if byte < 0x80 {
                let next = asciiNext(state, byte)
                return next == Self.dead ? nil : (next, 0, 0)
            }
            guard let (value, remaining) = UTF8Sequence.lead(byte),
                  partialIsAccepted(state, value, remaining, lead: true) else { return nil }
            return (state, value, remaining)
        }
        guard UTF8Sequence.continues(pendingValue: pendingValue, pendingRemaining: pendingRemaining, with: byte) else { return nil }
        let value = pendingValue << 6 | UInt32(byte & 0x3F)
        let remaining = pendingRemaining - 1
        if remaining > 0 {
            return partialIsAccepted(state, value, remaining, lead: false) ? (state, value, remaining) : nil
        }
        let next = scalarNext(state, value)
        return next == Self.dead ? nil : (next, 0, 0)
    }

    @inline(__always)
    private func asciiNext(_ state: Int32, _ byte: UInt8) -> Int32 {
        let index = Int(state) &* 128 &+ Int(byte)
        let known = asciiTransitions[index]
        if known != Self.unknown { return known }
        let computed = compute(state, scalar: UInt32(byte))
        asciiTransitions[index] = computed
        return computed
    }

    private func scalarNext(_ state: Int32, _ scalar: UInt32) -> Int32 {
        let classes = topClasses[Int(state)]
        if classes.count <= 64 {
            var signature: UInt64 = 0
            for (index, characterClass) in classes.enumerated() where stepper.characterClass(characterClass).contains(scalar) {
                signature |= 1 << UInt64(index)
            }
            if signature == 0 { return Self.dead }
            if let known = signatureTransitions[Int(state)][signature] { return known }
            let computed = compute(state, scalar: scalar)
            signatureTransitions[Int(state)][signature] = computed
            return computed
        }
        let key = Int(state) << 21 | Int(scalar)
        if let known = scalarTransitions[key] { return known }
        let computed = compute(state, scalar: scalar)
        scalarTransitions[key] = computed
        return computed
    }

    private func partialIsAccepted(_ state: Int32, _ value: UInt32, _ remaining: UInt8, lead: Bool) -> Bool {
        let key = Int(state) << 32 | (lead ? 1 << 31 : 0) | Int(remaining) << 24 | Int(value)
        if let known = partialAccepted[key] { return known }
        let level = stepper.load(states[Int(state)])
        let accepted = stepper.acceptsPartial(levelStart: level.lowerBound, levelEnd: level.upperBound, value: value,
                                              remaining: remaining, lead: lead)
        partialAccepted[key] = accepted
        return accepted
    }

    private func compute(_ state: Int32, scalar: UInt32) -> Int32 {
        let level = stepper.load(states[Int(state)])
        let start = stepper.levels.count
        stepper.advance(levelStart: level.lowerBound, levelEnd: level.upperBound, scalar: scalar)
        if stepper.overflowed {
            stepper.overflowed = false
            return Self.dead
        }
        guard stepper.levels.count > start else { return Self.dead }
        return intern(stepper.state(levelStart: start, levelEnd: stepper.levels.count, partialValue: 0, partialRemaining: 0))
    }
}
