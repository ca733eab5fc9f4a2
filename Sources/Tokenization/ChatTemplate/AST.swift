// The parsed form of a template: immutable, shared between threads, walked by the interpreter.

/// An expression with the source offset it starts at (for error messages).
struct Expression: Sendable {
    let kind: Kind
    let offset: Int

    indirect enum Kind: Sendable {
        case constant(Constant)
        case name(String)
        case list([Expression])
        case tuple([Expression])
        case dict([(key: Expression, value: Expression)])
        /// `x.name` (attribute first, then item, as jinja2's `getattr`).
        case attribute(Expression, String)
        /// `x[key]` (item first, then attribute, as jinja2's `getitem`).
        case item(Expression, Expression)
        case slice(Expression, start: Expression?, stop: Expression?, step: Expression?)
        case call(Expression, Arguments)
        case filter(Expression, FilterCall)
        case test(Expression, TestCall)
        case negate(Expression)
        case plus(Expression)
        case not(Expression)
        case binary(BinaryOperator, Expression, Expression)
        /// `a ~ b ~ c`: the `str` of each, joined.
        case concat([Expression])
        case and(Expression, Expression)
        case or(Expression, Expression)
        /// Python's chained comparison: `a < b <= c`.
        case compare(Expression, [(ComparisonOperator, Expression)])
        /// `then if condition else otherwise`; without `else` the result is undefined.
        case conditional(condition: Expression, then: Expression, otherwise: Expression?)
    }
}

enum Constant: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
}

enum ComparisonOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case `in` = "in", notIn = "not in"
}

/// Call arguments: positional then keyword (`*args` / `**kwargs` are rejected by the parser).
struct Arguments: Sendable {
    var positional: [Expression] = []
    var keyword: [(name: String, value: Expression)] = []
    static let empty = Arguments()
}

/// A filter application. `filter` is nil when the name is unknown or not implemented: inside
/// `{% if %}` blocks and `… if … else …` jinja2 only fails when such a filter actually runs, so
/// the parser keeps the node and `failure` is thrown then.
struct FilterCall: Sendable {
    let filter: Filter?
    let arguments: Arguments
    let offset: Int
    var failure: ChatTemplateError? = nil
}

struct TestCall: Sendable {
    let test: TestPredicate?
    let arguments: Arguments
    let negated: Bool
    let offset: Int
    var failure: ChatTemplateError? = nil
}

/// Where `{% set %}` and `{% for %}` put values.
enum AssignTarget: Sendable {
    case name(String)
    /// `{% set ns.attribute = … %}`
    case namespaceAttribute(namespace: String, attribute: String)
    /// `{% for key, value in … %}`, `{% set a, b = … %}`
    case unpack([String])
}

struct ForLoop: Sendable {
    let target: AssignTarget
    let iterable: Expression
    let condition: Expression?
    let body: [Statement]
    let elseBody: [Statement]
}

final class MacroDefinition: Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: Expression?)]
    let body: [Statement]
    /// Whether the body reads `varargs` / `kwargs`; jinja2 only accepts extra arguments then.
    let acceptsVarargs: Bool
    let acceptsKwargs: Bool

    init(name: String, parameters: [(name: String, defaultValue: Expression?)], body: [Statement],
         acceptsVarargs: Bool, acceptsKwargs: Bool) {
        self.name = name
        self.parameters = parameters
        self.body = body
        self.acceptsVarargs = acceptsVarargs
        self.acceptsKwargs = acceptsKwargs
    }
}

indirect enum Statement: Sendable {
    case text(String)
    case output(Expression)
    case conditional(branches: [(condition: Expression, body: [Statement])], otherwise: [Statement])
    case forLoop(ForLoop, offset: Int)
    case set(AssignTarget, Expression, offset: Int)
    /// `{% set x %}…{% endset %}`, optionally filtered (`{% set x | trim %}`).
    case setBlock(AssignTarget, filters: [FilterCall], body: [Statement], offset: Int)
    case macro(MacroDefinition)
    /// `{% filter upper %}…{% endfilter %}`
    case filterBlock(filters: [FilterCall], body: [Statement])
    /// `{% with a = 1 %}…{% endwith %}`: a scope of its own.
    case with(assignments: [(AssignTarget, Expression)], body: [Statement])
    case breakLoop
    case continueLoop
}
