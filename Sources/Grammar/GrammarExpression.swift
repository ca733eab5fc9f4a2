/// The parsed form of one rule body, before it is lowered to `Grammar`'s flat elements.
indirect enum GrammarExpression: Sendable {
    /// One character of a class.
    case characters(CharacterClass)
    /// A string literal: these scalar values in order (empty: matches nothing, i.e. ε).
    case literal([UInt32])
    case reference(String)
    case sequence([GrammarExpression])
    case alternation([GrammarExpression])
    /// `x?` is {0,1}, `x*` {0,}, `x+` {1,}; a nil maximum is unbounded.
    case repetition(GrammarExpression, minimum: Int, maximum: Int?)
}
