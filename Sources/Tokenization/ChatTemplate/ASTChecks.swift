import Foundation

// Checks over parsed expressions: missing filters and tests (jinja2 rejects them when compiling,
// except in conditional "soft frames" where they fail only if reached), and the names a macro
// body reads.

extension Parser {
    /// The error for a filter or test this interpreter lacks: jinja2's own message when jinja2
    /// lacks it too, "unsupported" when only this interpreter does.
    func missingBuiltin(_ kind: String, _ name: String, at offset: Int) -> ChatTemplateError {
        let known = kind == "filter" ? jinjaFilterNames.contains(name) : jinjaTestNames.contains(name)
        if known {
            return error("the \(kind) '\(name)' is not supported by this chat template interpreter", at: offset, kind: .unsupported)
        }
        return error("No \(kind) named '\(name)' found.", at: offset, kind: .runtime)
    }

    /// Rejects an expression that would use a missing filter or test outside a conditional
    /// context (jinja2 fails to compile those); inside one, records it as deferred.
    mutating func checkBuiltins(_ expression: Expression) throws(ChatTemplateError) -> Expression {
        try checkBuiltins(in: expression, soft: isSoft)
        return expression
    }

    mutating func checkBuiltins(_ filters: [FilterCall]) throws(ChatTemplateError) {
        for call in filters {
            try checkFailure(call.failure)
            try checkBuiltins(in: call.arguments, soft: isSoft)
        }
    }

    private mutating func checkFailure(_ failure: ChatTemplateError?, soft: Bool? = nil) throws(ChatTemplateError) {
        guard var failure else { return }
        if soft ?? isSoft {
            deferredErrors.append(failure)
            return
        }
        if failure.kind == .runtime {
            // Outside `if`, jinja2 rejects the template when compiling it.
            failure.kind = .syntax
            failure.message = failure.message.replacingOccurrences(of: " found.", with: ".")
        }
        throw failure
    }

    private mutating func checkBuiltins(in arguments: Arguments, soft: Bool) throws(ChatTemplateError) {
        for e in arguments.positional { try checkBuiltins(in: e, soft: soft) }
        for (_, e) in arguments.keyword { try checkBuiltins(in: e, soft: soft) }
    }

    private mutating func checkBuiltins(in e: Expression, soft: Bool) throws(ChatTemplateError) {
        switch e.kind {
        case .constant, .name: break
        case .list(let items), .tuple(let items), .concat(let items):
            for item in items { try checkBuiltins(in: item, soft: soft) }
        case .dict(let pairs):
            for pair in pairs { try checkBuiltins(in: pair.key, soft: soft); try checkBuiltins(in: pair.value, soft: soft) }
        case .attribute(let base, _), .negate(let base), .plus(let base), .not(let base):
            try checkBuiltins(in: base, soft: soft)
        case .item(let a, let b), .binary(_, let a, let b), .and(let a, let b), .or(let a, let b):
            try checkBuiltins(in: a, soft: soft)
            try checkBuiltins(in: b, soft: soft)
        case .slice(let base, let start, let stop, let step):
            try checkBuiltins(in: base, soft: soft)
            for part in [start, stop, step] { if let part { try checkBuiltins(in: part, soft: soft) } }
        case .call(let callee, let arguments):
            try checkBuiltins(in: callee, soft: soft)
            try checkBuiltins(in: arguments, soft: soft)
        case .filter(let base, let call):
            try checkBuiltins(in: base, soft: soft)
            try checkBuiltins(in: call.arguments, soft: soft)
            try checkFailure(call.failure, soft: soft)
        case .test(let base, let call):
            try checkBuiltins(in: base, soft: soft)
            try checkBuiltins(in: call.arguments, soft: soft)
            try checkFailure(call.failure, soft: soft)
        case .compare(let first, let rest):
            try checkBuiltins(in: first, soft: soft)
            for (_, e) in rest { try checkBuiltins(in: e, soft: soft) }
        case .conditional(let condition, let then, let otherwise):
            // jinja2 compiles all three parts of a conditional expression in a soft frame.
            try checkBuiltins(in: condition, soft: true)
            try checkBuiltins(in: then, soft: true)
            if let otherwise { try checkBuiltins(in: otherwise, soft: true) }
        }
    }
}

/// Collects every variable name an AST reads: for `varargs` / `kwargs` in a macro body (nested
/// macros excluded, they have their own), or for a whole template (macros included).
struct NameCollector {
    let includesNestedMacros: Bool

    static func names(in body: [Statement], includingNestedMacros: Bool = false) -> Set<String> {
        var names = Set<String>()
        let collector = NameCollector(includesNestedMacros: includingNestedMacros)
        for statement in body { collector.visit(statement, &names) }
        return names
    }

    private func visit(_ statement: Statement, _ names: inout Set<String>) {
        switch statement {
        case .text, .breakLoop, .continueLoop: break
        case .output(let e): visit(e, &names)
        case .conditional(let branches, let otherwise):
            for branch in branches { visit(branch.condition, &names); branch.body.forEach { visit($0, &names) } }
            otherwise.forEach { visit($0, &names) }
        case .forLoop(let loop, _):
            visit(loop.iterable, &names)
            if let c = loop.condition { visit(c, &names) }
            (loop.body + loop.elseBody).forEach { visit($0, &names) }
        case .set(_, let e, _): visit(e, &names)
        case .setBlock(_, let filters, let body, _):
            filters.forEach { visit($0.arguments, &names) }
            body.forEach { visit($0, &names) }
        case .macro(let definition):
            guard includesNestedMacros else { break }
            for parameter in definition.parameters { if let d = parameter.defaultValue { visit(d, &names) } }
            definition.body.forEach { visit($0, &names) }
        case .filterBlock(let filters, let body):
            filters.forEach { visit($0.arguments, &names) }
            body.forEach { visit($0, &names) }
        case .with(let assignments, let body):
            assignments.forEach { visit($0.1, &names) }
            body.forEach { visit($0, &names) }
        }
    }

    private func visit(_ arguments: Arguments, _ names: inout Set<String>) {
        arguments.positional.forEach { visit($0, &names) }
        arguments.keyword.forEach { visit($0.value, &names) }
    }

    private func visit(_ e: Expression, _ names: inout Set<String>) {
        switch e.kind {
        case .constant: break
        case .name(let n): names.insert(n)
        case .list(let items), .tuple(let items), .concat(let items): items.forEach { visit($0, &names) }
        case .dict(let pairs): pairs.forEach { visit($0.key, &names); visit($0.value, &names) }
        case .attribute(let base, _), .negate(let base), .plus(let base), .not(let base): visit(base, &names)
        case .item(let a, let b), .binary(_, let a, let b), .and(let a, let b), .or(let a, let b):
            visit(a, &names); visit(b, &names)
        case .slice(let base, let start, let stop, let step):
            visit(base, &names)
            [start, stop, step].compactMap { $0 }.forEach { visit($0, &names) }
        case .call(let callee, let arguments): visit(callee, &names); visit(arguments, &names)
        case .filter(let base, let call): visit(base, &names); visit(call.arguments, &names)
        case .test(let base, let call): visit(base, &names); visit(call.arguments, &names)
        case .compare(let first, let rest): visit(first, &names); rest.forEach { visit($0.1, &names) }
        case .conditional(let condition, let then, let otherwise):
            visit(condition, &names); visit(then, &names)
            if let otherwise { visit(otherwise, &names) }
        }
    }
}
