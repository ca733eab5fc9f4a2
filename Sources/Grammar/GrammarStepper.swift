/// The pushdown recogniser under `GrammarMatcher`: advances sets of parse stacks by one byte of
/// UTF-8, as llama.cpp's grammar does (stacks of element positions, expanded top-down until
/// each top is a character class).
///
/// Stacks live in an arena of (position, parent) nodes that share their tails, and the sets of
/// stacks ("levels") in one flat array; `load` puts a canonical `GrammarState` in, `step` and
/// `advance` append the next level, `state` reads a level back as a canonical state. The arrays
/// keep their capacity between uses. Node id -1 is the empty (completed) stack. The automaton
/// calls it once per new transition; the reference mask, once per token.
final class GrammarStepper {
    // The grammar, flattened for the hot loop.
    private let kinds: [GrammarElement.Kind]
    private let values: [Int32]
    private let classes: [CharacterClass]
    /// Rule r's alternatives start at `alternativeStarts[alternativeOffsets[r] ..< alternativeOffsets[r + 1]]`.
    private let alternativeOffsets: [Int32]
    private let alternativeStarts: [Int32]
    let rootRule: Int32

    private(set) var nodePositions: [Int32] = []
    private(set) var nodeParents: [Int32] = []
    /// Levels: each a range of node ids (or -1) in this array.
    private(set) var levels: [Int32] = []
    /// Where the level being built starts (duplicates are skipped within it).
    private var buildingLevelStart = 0
    /// Nested expansions without a character in between, and whether a step went past the limit
    /// (its result is then incomplete: `Grammar` refuses grammars whose start does, and the
    /// automaton treats such a transition as dead).
    private var expansionDepth = 0
    var overflowed = false
    /// Expansions nest at most this deep (about 2 MB of stack).
    static let maximumExpansionDepth = 10_000

    init(grammar: Grammar) {
        kinds = grammar.elements.map(\.kind)
        values = grammar.elements.map(\.value)
        classes = grammar.classes
        var offsets: [Int32] = [0]
        var starts: [Int32] = []
        for ruleStarts in grammar.alternativeStarts {
            starts.append(contentsOf: ruleStarts)
            offsets.append(Int32(starts.count))
        }
        alternativeOffsets = offsets
        alternativeStarts = starts
        rootRule = grammar.rootRule
    }

    /// The state before any output: the root rule expanded.
    func initialState() -> GrammarState {
        reset()
        buildingLevelStart = 0
        expandRule(rootRule, parent: -1)
        return state(levelStart: 0, levelEnd: levels.count, partialValue: 0, partialRemaining: 0)
    }

    func reset() {
        nodePositions.removeAll(keepingCapacity: true)
        nodeParents.removeAll(keepingCapacity: true)
        levels.removeAll(keepingCapacity: true)
    }

    /// Puts `state`'s stacks in the arena as the first level; returns its range.
    func load(_ state: GrammarState) -> Range<Int> {
        reset()
        for stack in state.stacks {
            var parent: Int32 = -1
            for position in stack {
                nodePositions.append(position)
                nodeParents.append(parent)
                parent = Int32(nodePositions.count - 1)
            }
            levels.append(parent)
        }
        return 0..<levels.count
    }

    /// The stacks of a level as a canonical state.
    func state(levelStart: Int, levelEnd: Int, partialValue: UInt32, partialRemaining: UInt8) -> GrammarState {
        var stacks: Set<[Int32]> = []
        for index in levelStart..<levelEnd {
            var stack: [Int32] = []
            var node = levels[index]
            while node >= 0 {
                stack.append(nodePositions[Int(node)])
                node = nodeParents[Int(node)]
            }
            stacks.insert(stack.reversed())
        }
        return GrammarState(stacks: stacks.sorted { $0.lexicographicallyPrecedes($1) },
                            partialValue: partialValue, partialRemaining: partialRemaining)
    }

    /// One byte from the level `levelStart..<levelEnd` with a pending UTF-8 sequence.
    /// Returns the resulting level (appended to `levels`, or the same range when the byte only
    /// extends an unfinished character) and the new pending sequence, or nil when no stack
    /// can take the byte.
    @inline(__always)
    func step(levelStart: Int, levelEnd: Int, partialValue: UInt32, partialRemaining: UInt8,
              byte: UInt8) -> (levelStart: Int, levelEnd: Int, partialValue: UInt32, partialRemaining: UInt8)? {
        if partialRemaining == 0 {
            if byte < 0x80 {
                let start = levels.count
                advance(levelStart: levelStart, levelEnd: levelEnd, scalar: UInt32(byte))
                return levels.count > start ? (start, levels.count, 0, 0) : nil
            }
            guard let (value, remaining) = UTF8Sequence.lead(byte),
                  acceptsPartial(levelStart: levelStart, levelEnd: levelEnd, value: value, remaining: remaining, lead: true)
            else { return nil }
            return (levelStart, levelEnd, value, remaining)
        }
        guard UTF8Sequence.continues(pendingValue: partialValue, pendingRemaining: partialRemaining, with: byte) else { return nil }
        let value = partialValue << 6 | UInt32(byte & 0x3F)
        let remaining = partialRemaining - 1
        if remaining > 0 {
            guard acceptsPartial(levelStart: levelStart, levelEnd: levelEnd, value: value, remaining: remaining, lead: false)
            else { return nil }
            return (levelStart, levelEnd, value, remaining)
        }
        guard value <= CharacterClass.maximumScalar, !(0xD800...0xDFFF).contains(value) else { return nil }
        let start = levels.count
        advance(levelStart: levelStart, levelEnd: levelEnd, scalar: value)
        return levels.count > start ? (start, levels.count, 0, 0) : nil
    }

    /// The distinct character classes on top of `state`'s stacks: a character's transition
    /// depends only on which of them contain it.
    func topClasses(of state: GrammarState) -> [Int32] {
        var result: [Int32] = []
        for stack in state.stacks {
            guard let top = stack.last else { continue }
            let characterClass = values[Int(top)]
            if !result.contains(characterClass) { result.append(characterClass) }
        }
        return result
    }

    func characterClass(_ index: Int32) -> CharacterClass { classes[Int(index)] }

    /// Whether some stack's next character can begin with an unfinished sequence: `value` holds
    /// its bits so far and `remaining` continuation bytes are missing; `lead` when only the lead
    /// byte was read (the smallest character of that length then bounds it from below).
    func acceptsPartial(levelStart: Int, levelEnd: Int, value: UInt32, remaining: UInt8, lead: Bool) -> Bool {
        let smallest: UInt32 = !lead ? 0 : remaining == 1 ? 0x80 : remaining == 2 ? 0x800 : 0x10000
        let shift = UInt32(remaining) * 6
        let low = max(value << shift, smallest)
        let high = value << shift | ((1 << shift) - 1)
        for index in levelStart..<levelEnd {
            let node = levels[index]
            if node < 0 { continue }
            if classes[Int(values[Int(nodePositions[Int(node)])])].intersects(low, high) { return true }
        }
        return false
    }

    /// Appends the level reached from `levelStart..<levelEnd` by one character.
    func advance(levelStart: Int, levelEnd: Int, scalar: UInt32) {
        buildingLevelStart = levels.count
        for index in levelStart..<levelEnd {
            let node = levels[index]
            if node < 0 { continue }     // a completed stack takes no more characters
            let position = nodePositions[Int(node)]
            if classes[Int(values[Int(position)])].contains(scalar) {
                expand(position: position + 1, parent: nodeParents[Int(node)])
            }
        }
    }

    /// Adds to the level being built every stack that continues at `position` with `parent`
    /// below it, expanding rule references and finished alternatives until the top is a class.
    private func expand(position: Int32, parent: Int32) {
        expansionDepth += 1
        defer { expansionDepth -= 1 }
        guard expansionDepth <= Self.maximumExpansionDepth else { overflowed = true; return }
        switch kinds[Int(position)] {
        case .end:
            if parent < 0 {
                addToLevel(-1)
            } else {
                expand(position: nodePositions[Int(parent)], parent: nodeParents[Int(parent)])
            }
        case .characters:
            for index in buildingLevelStart..<levels.count {
                let node = levels[index]
                if node >= 0 && nodePositions[Int(node)] == position && nodeParents[Int(node)] == parent { return }
            }
            nodePositions.append(position)
            nodeParents.append(parent)
            levels.append(Int32(nodePositions.count - 1))
        case .reference:
            // The caller continues after the reference; a reference ending its alternative
            // continues directly with the caller's parent (no frame for a tail call).
            let continuation: Int32
            if kinds[Int(position) + 1] == .end {
                continuation = parent
            } else {
                nodePositions.append(position + 1)
                nodeParents.append(parent)
                continuation = Int32(nodePositions.count - 1)
            }
            expandRule(values[Int(position)], parent: continuation)
        }
    }

    private func expandRule(_ rule: Int32, parent: Int32) {
        expansionDepth += 1
        defer { expansionDepth -= 1 }
        guard expansionDepth <= Self.maximumExpansionDepth else { overflowed = true; return }
        for index in Int(alternativeOffsets[Int(rule)])..<Int(alternativeOffsets[Int(rule) + 1]) {
            expand(position: alternativeStarts[index], parent: parent)
        }
    }

    private func addToLevel(_ node: Int32) {
        for index in buildingLevelStart..<levels.count where levels[index] == node { return }
        levels.append(node)
    }
}
