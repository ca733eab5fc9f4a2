/// Turns parsed rules into `Grammar`'s flat element array: every group and repetition becomes
/// a rule of its own (`x*` → `x-star ::= x x-star | ε`, `x{2,4}` → `x x x-rest2` with
/// `x-rest2 ::= x x-rest1 | ε`), then checks the result: every referenced rule defined, a
/// root rule, no left recursion (the matcher expands rules top-down and would not terminate).
struct GrammarLowering {
    private(set) var elements: [GrammarElement] = []
    private(set) var alternativeStarts: [[Int32]] = []
    private(set) var ruleNames: [String] = []
    private(set) var classes: [CharacterClass] = []
    private var classIndex: [CharacterClass: Int32] = [:]
    private var ruleIndex: [String: Int32] = [:]

    /// Elements at most: a bound on what unrolled repetitions may cost.
    static let maximumElements = 4_000_000

    static func lower(_ rules: [(name: String, body: GrammarExpression)], root: String) throws(GrammarError) -> Grammar {
        var lowering = GrammarLowering()
        for rule in rules {
            if lowering.ruleIndex[rule.name] != nil { throw GrammarError("rule '\(rule.name)' is defined twice") }
            lowering.ruleIndex[rule.name] = lowering.newRule(rule.name)
        }
        for rule in rules {
            let alternatives = lowering.branches(of: rule.body)
            var starts: [Int32] = []
            for alternative in alternatives {
                var sequence: [GrammarElement] = []
                try lowering.lower(alternative, into: &sequence, ruleName: rule.name)
                starts.append(try lowering.append(sequence))
            }
            lowering.alternativeStarts[Int(lowering.ruleIndex[rule.name]!)] = starts
        }
        guard let rootIndex = lowering.ruleIndex[root] else {
            throw GrammarError("the grammar has no '\(root)' rule (generation starts there)")
        }
        let grammar = Grammar(elements: lowering.elements, alternativeStarts: lowering.alternativeStarts,
                              ruleNames: lowering.ruleNames, classes: lowering.classes, rootRule: rootIndex)
        try grammar.checkLeftRecursion()
        let stepper = GrammarStepper(grammar: grammar)
        if stepper.initialState().isDead || stepper.overflowed {
            throw GrammarError(stepper.overflowed
                ? "the grammar nests rules more than \(GrammarStepper.maximumExpansionDepth) deep before its first character; flatten it"
                : "the '\(root)' rule can match nothing")
        }
        return grammar
    }

    private func branches(of expression: GrammarExpression) -> [GrammarExpression] {
        if case .alternation(let alternatives) = expression { return alternatives }
        return [expression]
    }

    private mutating func newRule(_ name: String) -> Int32 {
        ruleNames.append(name)
        alternativeStarts.append([])
        return Int32(ruleNames.count - 1)
    }

    /// Appends one alternative (terminated by `.end`) and returns where it starts.
    private mutating func append(_ sequence: [GrammarElement]) throws(GrammarError) -> Int32 {
        let start = Int32(elements.count)
        elements.append(contentsOf: sequence)
        elements.append(GrammarElement(kind: .end, value: 0))
        guard elements.count <= Self.maximumElements else {
            throw GrammarError("the grammar is too large (more than \(Self.maximumElements) elements once repetitions are unrolled); lower repetition bounds")
        }
        return start
    }

    private mutating func characterElement(_ characterClass: CharacterClass) -> GrammarElement {
        if let index = classIndex[characterClass] { return GrammarElement(kind: .characters, value: index) }
        let index = Int32(classes.count)
        classes.append(characterClass)
        classIndex[characterClass] = index
        return GrammarElement(kind: .characters, value: index)
    }

    private mutating func lower(_ expression: GrammarExpression, into sequence: inout [GrammarElement],
                                ruleName: String) throws(GrammarError) {
        switch expression {
        case .characters(let characterClass):
            sequence.append(characterElement(characterClass))
        case .literal(let scalars):
            for scalar in scalars { sequence.append(characterElement(CharacterClass(scalar: scalar))) }
        case .reference(let name):
            guard let index = ruleIndex[name] else {
                throw GrammarError("rule '\(ruleName)' refers to undefined rule '\(name)'")
            }
            sequence.append(GrammarElement(kind: .reference, value: index))
        case .sequence(let items):
            for item in items { try lower(item, into: &sequence, ruleName: ruleName) }
        case .alternation(let alternatives):
            let rule = newRule("\(ruleName)-group\(ruleNames.count)")
            var starts: [Int32] = []
            for alternative in alternatives {
                var inner: [GrammarElement] = []
                try lower(alternative, into: &inner, ruleName: ruleName)
                starts.append(try append(inner))
            }
            alternativeStarts[Int(rule)] = starts
            sequence.append(GrammarElement(kind: .reference, value: rule))
        case .repetition(let item, let minimum, let maximum):
            var unit: [GrammarElement] = []
            try lower(item, into: &unit, ruleName: ruleName)
            guard sequence.count + unit.count * minimum <= Self.maximumElements else {
                throw GrammarError("the grammar is too large once repetitions are unrolled; lower repetition bounds")
            }
            for _ in 0..<minimum { sequence.append(contentsOf: unit) }
            if let maximum {
                guard maximum > minimum else { return }
                // rest_k ::= unit rest_(k-1) | ε, rest_1 ::= unit | ε: up to k more units.
                var previous: Int32?
                for count in 1...(maximum - minimum) {
                    let rule = newRule("\(ruleName)-rest\(count)-\(ruleNames.count)")
                    var body = unit
                    if let previous { body.append(GrammarElement(kind: .reference, value: previous)) }
                    alternativeStarts[Int(rule)] = [try append(body), try append([])]
                    previous = rule
                }
                sequence.append(GrammarElement(kind: .reference, value: previous!))
            } else {
                let rule = newRule("\(ruleName)-star\(ruleNames.count)")
                alternativeStarts[Int(rule)] = [try append(unit + [GrammarElement(kind: .reference, value: rule)]), try append([])]
                sequence.append(GrammarElement(kind: .reference, value: rule))
            }
        }
    }
}
