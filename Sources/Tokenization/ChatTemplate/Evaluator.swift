// Expression evaluation: names, literals, operators, attribute and item access, calls.

/// Evaluated call arguments, bound to Python-style signatures by `bind`.
struct CallArguments {
    var positional: [Value] = []
    var keyword: [(name: String, value: Value)] = []

    /// Binds to `parameters` (positional-or-keyword, in order). Returns one slot per parameter,
    /// nil when not given; throws for extra or repeated arguments.
    func bind(_ function: String, _ parameters: [String]) throws(ChatTemplateError) -> [Value?] {
        guard positional.count <= parameters.count else {
            throw ChatTemplateError("\(function)() takes at most \(parameters.count) argument(s) (\(positional.count) given)")
        }
        var slots: [Value?] = positional.map { $0 }
        slots += Array(repeating: nil, count: parameters.count - positional.count)
        for (name, value) in keyword {
            guard let i = parameters.firstIndex(of: name) else {
                throw ChatTemplateError("\(function)() got an unexpected keyword argument '\(name)'")
            }
            guard slots[i] == nil else { throw ChatTemplateError("\(function)() got multiple values for argument '\(name)'") }
            slots[i] = value
        }
        return slots
    }
}

extension Interpreter {
    func evaluate(_ expression: Expression, _ scope: Scope) throws(ChatTemplateError) -> Value {
        do {
            return try evaluateUnlocated(expression, scope)
        } catch {
            throw locate(error, expression.offset)
        }
    }

    private func evaluateUnlocated(_ expression: Expression, _ scope: Scope) throws(ChatTemplateError) -> Value {
        switch expression.kind {
        case .constant(let constant):
            switch constant {
            case .none: return .null
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .double(let d): return .double(d)
            case .string(let s): return .string(s)
            }
        case .name(let name):
            return scope.lookup(name) ?? .undefined(name: name)
        case .list(let items):
            var values: [Value] = []
            values.reserveCapacity(items.count)
            for item in items { values.append(try evaluate(item, scope)) }
            return .list(values)
        case .tuple(let items):
            var values: [Value] = []
            for item in items { values.append(try evaluate(item, scope)) }
            return .tuple(values)
        case .dict(let pairs):
            var dict = OrderedDict()
            for (keyExpression, valueExpression) in pairs {
                let key = try evaluate(keyExpression, scope)
                guard key.isHashable else {
                    throw ChatTemplateError("unhashable type: '\(key.typeName)'")
                }
                dict[key] = try evaluate(valueExpression, scope)
            }
            return .dict(dict)
        case .attribute(let base, let name):
            return try attribute(name, of: try evaluate(base, scope))
        case .item(let base, let key):
            return try item(try evaluate(key, scope), of: try evaluate(base, scope))
        case .slice(let base, let start, let stop, let step):
            let value = try evaluate(base, scope)
            func bound(_ e: Expression?) throws(ChatTemplateError) -> Int? {
                guard let e else { return nil }
                switch try evaluate(e, scope) {
                case .null: return nil
                case .int(let i): return i
                case .bool(let b): return b ? 1 : 0
                default: throw ChatTemplateError("slice indices must be integers or None")
                }
            }
            return try slice(value, start: try bound(start), stop: try bound(stop), step: try bound(step))
        case .call(let callee, let arguments):
            if case .attribute(let base, let name) = callee.kind {
                // A method call: skip creating the bound method object.
                let receiver = try evaluate(base, scope)
                let args = try evaluateArguments(arguments, scope)
                if let result = try callMethod(name, on: receiver, args) { return result }
                return try call(try attribute(name, of: receiver), args)
            }
            return try call(try evaluate(callee, scope), try evaluateArguments(arguments, scope))
        case .filter(let base, let filterCall):
            return try applyFilter(filterCall, to: try evaluate(base, scope), scope: scope)
        case .test(let base, let testCall):
            let value = try evaluate(base, scope)
            let args = try evaluateArguments(testCall.arguments, scope)
            guard let test = testCall.test else { throw testCall.failure! }
            return .bool(try located(testCall.offset) { () throws(ChatTemplateError) in try applyTest(test, to: value, args) } != testCall.negated)
        case .negate(let operand):
            return try negate(try evaluate(operand, scope))
        case .plus(let operand):
            let value = try evaluate(operand, scope)
            guard value.numeric != nil else { throw ChatTemplateError("bad operand type for unary +: '\(value.typeName)'") }
            if case .bool(let b) = value { return .int(b ? 1 : 0) }
            return value
        case .not(let operand):
            return .bool(!(try evaluate(operand, scope).isTruthy))
        case .binary(let op, let left, let right):
            return try binary(op, try evaluate(left, scope), try evaluate(right, scope))
        case .concat(let parts):
            var text = ""
            for part in parts {
                let value = try evaluate(part, scope)
                text += try located(part.offset) { () throws(ChatTemplateError) in try renderedText(value) }
            }
            return .string(text)
        case .and(let left, let right):
            let value = try evaluate(left, scope)
            return value.isTruthy ? try evaluate(right, scope) : value
        case .or(let left, let right):
            let value = try evaluate(left, scope)
            return value.isTruthy ? value : try evaluate(right, scope)
        case .compare(let first, let rest):
            var left = try evaluate(first, scope)
            for (op, rightExpression) in rest {
                let right = try evaluate(rightExpression, scope)
                guard try compare(op, left, right) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition, scope).isTruthy { return try evaluate(then, scope) }
            if let otherwise { return try evaluate(otherwise, scope) }
            let (line, _) = sourceMap.location(of: expression.offset)
            return .undefined(hint: "the inline if-expression on line \(line) evaluated to false and no else section was defined.")
        }
    }

    func evaluateArguments(_ arguments: Arguments, _ scope: Scope) throws(ChatTemplateError) -> CallArguments {
        var result = CallArguments()
        if arguments.positional.isEmpty && arguments.keyword.isEmpty { return result }
        for expression in arguments.positional { result.positional.append(try evaluate(expression, scope)) }
        for (name, expression) in arguments.keyword { result.keyword.append((name, try evaluate(expression, scope))) }
        return result
    }

    func applyFilters(_ filters: [FilterCall], to value: Value, scope: Scope) throws(ChatTemplateError) -> Value {
        var result = value
        for filter in filters { result = try applyFilter(filter, to: result, scope: scope) }
        return result
    }

    private func applyFilter(_ call: FilterCall, to value: Value, scope: Scope) throws(ChatTemplateError) -> Value {
        let args = try evaluateArguments(call.arguments, scope)
        guard let filter = call.filter else { throw call.failure! }
        return try located(call.offset) { () throws(ChatTemplateError) in try applyFilter(filter, to: value, args) }
    }

    /// Calls a value: a macro, a global function or a bound method.
    func call(_ callee: Value, _ args: CallArguments) throws(ChatTemplateError) -> Value {
        switch callee {
        case .macro(let macro): return try callMacro(macro, args)
        case .function(let function): return try callGlobal(function, args)
        case .boundMethod(let method):
            if let result = try callMethod(method.name, on: method.receiver, args) { return result }
            throw ChatTemplateError("'\(method.receiver.typeName)' method '\(method.name)' cannot be called")
        case .undefined(let hint): throw ChatTemplateError(hint)
        default: throw ChatTemplateError("'\(callee.typeName)' object is not callable")
        }
    }

    private func compare(_ op: ComparisonOperator, _ left: Value, _ right: Value) throws(ChatTemplateError) -> Bool {
        switch op {
        case .equal: return left.pythonEquals(right)
        case .notEqual: return !left.pythonEquals(right)
        case .in: return try contains(right, left)
        case .notIn: return !(try contains(right, left))
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            for operand in [left, right] { if case .undefined(let hint) = operand { throw ChatTemplateError(hint) } }
            let (a, b) = op == .less || op == .lessOrEqual ? (left, right) : (right, left)
            guard let less = a.pythonLess(b) else {
                throw ChatTemplateError("'\(op.rawValue)' not supported between instances of '\(left.typeName)' and '\(right.typeName)'")
            }
            if op == .less || op == .greater { return less }
            return less || a.pythonEquals(b)
        }
    }

    /// Python's `item in container`.
    func contains(_ container: Value, _ item: Value) throws(ChatTemplateError) -> Bool {
        switch container {
        case .string(let text), .markup(let text):
            guard let needle = item.text else {
                throw ChatTemplateError("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return text.pythonContains(needle)
        case .list(let items), .tuple(let items): return items.contains { $0.pythonEquals(item) }
        case .dictView(let view): return view.items.contains { $0.pythonEquals(item) }
        case .iterator(let iterator):
            while let next = iterator.next() { if next.pythonEquals(item) { return true } }
            return false
        case .dict(let dict):
            guard item.isHashable else { throw ChatTemplateError("unhashable type: '\(item.typeName)'") }
            return dict.index(of: item) != nil
        case .undefined: return false
        default: throw ChatTemplateError("argument of type '\(container.typeName)' is not iterable")
        }
    }
}
