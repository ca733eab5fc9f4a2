import Foundation

// Executes a parsed template. One `Interpreter` per render: it holds the render's mutable state
// (scopes, namespaces, macro depth); the AST it walks is shared and immutable.

/// Variables visible at one point. jinja2 scoping: a `{% for %}` body gets a fresh scope per
/// iteration, macros and `{% with %}` get one per call, `{% if %}` shares its parent's; `set`
/// writes to the innermost scope, so nothing set inside a loop survives it (use a namespace).
final class Scope {
    var variables: [String: Value]
    let parent: Scope?

    init(parent: Scope?, variables: [String: Value] = [:]) {
        self.parent = parent
        self.variables = variables
    }

    func lookup(_ name: String) -> Value? {
        var scope: Scope? = self
        while let current = scope {
            if let value = current.variables[name] { return value }
            scope = current.parent
        }
        return nil
    }
}

final class Interpreter {
    let sourceMap: SourceMap
    /// What `strftime_now` formats (local time, as Python's `datetime.now()`).
    let now: Date
    private var macroDepth = 0
    private static let maximumMacroDepth = 64

    init(sourceMap: SourceMap, now: Date) {
        self.sourceMap = sourceMap
        self.now = now
    }

    enum Flow { case normal, breakLoop, continueLoop }

    func render(_ body: [Statement], globals: [String: Value]) throws(ChatTemplateError) -> String {
        var builtins: [String: Value] = [:]
        for function in [BuiltinFunction.range, .namespace, .dict, .raiseException, .strftimeNow] {
            builtins[function.rawValue] = .function(function)
        }
        let root = Scope(parent: Scope(parent: nil, variables: builtins), variables: globals)
        var out = ""
        out.reserveCapacity(4096)
        _ = try execute(body, scope: root, into: &out)
        return out
    }

    // MARK: - Statements

    func execute(_ body: [Statement], scope: Scope, into out: inout String) throws(ChatTemplateError) -> Flow {
        for statement in body {
            switch statement {
            case .text(let text):
                out += text
            case .output(let expression):
                out += try located(expression.offset) { () throws(ChatTemplateError) in
                    try renderedText(try evaluate(expression, scope))
                }
            case .conditional(let branches, let otherwise):
                var chosen = otherwise
                for branch in branches where try evaluate(branch.condition, scope).isTruthy {
                    chosen = branch.body
                    break
                }
                let flow = try execute(chosen, scope: scope, into: &out)
                if flow != .normal { return flow }
            case .forLoop(let loop, let offset):
                try located(offset) { () throws(ChatTemplateError) in try executeFor(loop, scope: scope, into: &out) }
            case .set(let target, let expression, let offset):
                let value = try evaluate(expression, scope)
                try located(offset) { () throws(ChatTemplateError) in try assign(value, to: target, in: scope) }
            case .setBlock(let target, let filters, let body, let offset):
                var captured = ""
                _ = try execute(body, scope: Scope(parent: scope), into: &captured)
                let value = try applyFilters(filters, to: .string(captured), scope: scope)
                try located(offset) { () throws(ChatTemplateError) in try assign(value, to: target, in: scope) }
            case .macro(let definition):
                scope.variables[definition.name] = .macro(Macro(definition: definition, scope: scope))
            case .filterBlock(let filters, let body):
                var captured = ""
                _ = try execute(body, scope: Scope(parent: scope), into: &captured)
                out += try renderedText(try applyFilters(filters, to: .string(captured), scope: scope))
            case .with(let assignments, let body):
                let inner = Scope(parent: scope)
                for (target, expression) in assignments {
                    try assign(try evaluate(expression, scope), to: target, in: inner)
                }
                let flow = try execute(body, scope: inner, into: &out)
                if flow != .normal { return flow }
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            }
        }
        return .normal
    }

    private func executeFor(_ loop: ForLoop, scope: Scope, into out: inout String) throws(ChatTemplateError) {
        var items = try iterate(try evaluate(loop.iterable, scope))
        if let condition = loop.condition {
            var kept: [Value] = []
            for item in items {
                let probe = Scope(parent: scope)
                try assign(item, to: loop.target, in: probe)
                if try evaluate(condition, probe).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try execute(loop.elseBody, scope: Scope(parent: scope), into: &out)
            return
        }
        let context = LoopContext(items: items)
        for (i, item) in items.enumerated() {
            context.index0 = i
            let iteration = Scope(parent: scope, variables: ["loop": .loop(context)])
            try assign(item, to: loop.target, in: iteration)
            if try execute(loop.body, scope: iteration, into: &out) == .breakLoop { break }
        }
    }

    func assign(_ value: Value, to target: AssignTarget, in scope: Scope) throws(ChatTemplateError) {
        switch target {
        case .name(let name):
            scope.variables[name] = value
        case .unpack(let names):
            let items = try iterate(value)
            guard items.count == names.count else {
                throw ChatTemplateError(items.count < names.count
                    ? "not enough values to unpack (expected \(names.count), got \(items.count))"
                    : "too many values to unpack (expected \(names.count))")
            }
            for (name, item) in zip(names, items) { scope.variables[name] = item }
        case .namespaceAttribute(let name, let attribute):
            guard case .namespace(let namespace)? = scope.lookup(name) else {
                throw ChatTemplateError("cannot assign attribute on non-namespace object '\(name)'")
            }
            guard !attribute.hasPrefix("_") else {
                throw ChatTemplateError("chat templates cannot store underscore-prefixed attributes on a namespace ('\(attribute)')")
            }
            namespace.attributes[attribute] = value
        }
    }

    /// Python's `iter(x)` as jinja2 uses it: lists and tuples, dict keys, a string's code points;
    /// an undefined value iterates as empty.
    func iterate(_ value: Value) throws(ChatTemplateError) -> [Value] {
        switch value {
        case .list(let items), .tuple(let items): return items
        case .dict(let dict): return dict.keys
        case .string(let s), .markup(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .iterator(let iterator): return iterator.drain()
        case .dictView(let view): return view.items
        case .undefined: return []
        default: throw ChatTemplateError("'\(value.typeName)' object is not iterable")
        }
    }

    /// `str(value)` for output and `~`. jinja2 would print an iterator as
    /// "<generator object … at 0x7f…>", which no render can match: refused instead.
    func renderedText(_ value: Value) throws(ChatTemplateError) -> String {
        if case .iterator(let iterator) = value {
            throw ChatTemplateError("rendering a \(iterator.typeName) (the result of map/select/items…) directly is not supported; "
                                    + "jinja2 would print its memory address (add '|list' or '|join')", kind: .unsupported)
        }
        return value.pythonString
    }

    // MARK: - Errors

    /// Gives an error thrown without a position the position of `offset`.
    func located<T>(_ offset: Int, _ body: () throws(ChatTemplateError) -> T) throws(ChatTemplateError) -> T {
        do {
            return try body()
        } catch {
            throw locate(error, offset)
        }
    }

    func locate(_ error: ChatTemplateError, _ offset: Int) -> ChatTemplateError {
        guard error.line == nil else { return error }
        var located = error
        (located.line, located.column) = sourceMap.location(of: offset)
        return located
    }

    // MARK: - Macros

    func callMacro(_ macro: Macro, _ arguments: CallArguments) throws(ChatTemplateError) -> Value {
        let definition = macro.definition
        guard macroDepth < Self.maximumMacroDepth else {
            throw ChatTemplateError("macro '\(definition.name)' recursed more than \(Self.maximumMacroDepth) levels deep")
        }
        let scope = Scope(parent: macro.scope)
        let parameters = definition.parameters
        var extraPositional: [Value] = []
        for (i, value) in arguments.positional.enumerated() {
            if i < parameters.count {
                scope.variables[parameters[i].name] = value
            } else {
                extraPositional.append(value)
            }
        }
        if !extraPositional.isEmpty && !definition.acceptsVarargs {
            throw ChatTemplateError("macro '\(definition.name)' takes not more than \(parameters.count) argument(s)")
        }
        var extraKeywords = OrderedDict()
        for (name, value) in arguments.keyword {
            if let i = parameters.firstIndex(where: { $0.name == name }) {
                if i < arguments.positional.count {
                    throw ChatTemplateError("macro '\(definition.name)' got multiple values for argument '\(name)'")
                }
                scope.variables[name] = value
            } else if definition.acceptsKwargs {
                extraKeywords[name] = value
            } else {
                throw ChatTemplateError("macro '\(definition.name)' takes no keyword argument '\(name)'")
            }
        }
        for parameter in parameters where scope.variables[parameter.name] == nil {
            if let defaultValue = parameter.defaultValue {
                scope.variables[parameter.name] = try evaluate(defaultValue, scope)
            } else {
                scope.variables[parameter.name] = .undefined(hint: "parameter '\(parameter.name)' was not provided")
            }
        }
        if definition.acceptsVarargs { scope.variables["varargs"] = .tuple(extraPositional) }
        if definition.acceptsKwargs { scope.variables["kwargs"] = .dict(extraKeywords) }
        macroDepth += 1
        defer { macroDepth -= 1 }
        var out = ""
        _ = try execute(definition.body, scope: scope, into: &out)
        return .string(out)
    }
}
