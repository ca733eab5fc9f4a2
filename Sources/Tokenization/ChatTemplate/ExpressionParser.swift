// Expressions, with jinja2's precedence (lowest first):
//   conditional (`a if c else b`) → or → and → not → comparison (chained, `in`, `not in`)
//   → + - → ~ → * / // % → ** → unary - + → primary with postfix (.x [i] (args)) and
//   filters / tests (`|f`, `is t`), which bind tighter than any binary operator.

extension Parser {
    /// A comma-separated list becomes a tuple (`{{ a, b }}`, `{% set t = 1, 2 %}`).
    mutating func parseTuple(withConditional: Bool = true, extraEndNames: Set<String> = []) throws(ChatTemplateError)
        -> Expression
    {
        let offset = current.offset
        var items: [Expression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectSymbol(",") }
            if isTupleEnd(extraEndNames) { break }
            items.append(try parseExpression(withConditional: withConditional))
            if isSymbol(",") { isTuple = true } else { break }
        }
        if !isTuple {
            guard let only = items.first else {
                throw error("expected an expression, found \(describe(current))", at: current.offset)
            }
            return only
        }
        return Expression(kind: .tuple(items), offset: offset)
    }

    private func isTupleEnd(_ extraEndNames: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .symbol(")"): return true
        case .name(let name): return extraEndNames.contains(name)
        default: return false
        }
    }

    mutating func parseExpression(withConditional: Bool = true) throws(ChatTemplateError) -> Expression {
        try enterNesting(at: current.offset)
        defer { nesting -= 1 }
        return withConditional ? try parseConditional() : try parseOr()
    }

    private mutating func parseConditional() throws(ChatTemplateError) -> Expression {
        var expression = try parseOr()
        var added = 0
        defer { nesting -= added }
        while isName("if") {
            let offset = advance().offset
            try enterNesting(at: offset)
            added += 1
            let condition = try parseOr()
            let otherwise = skipName("else") ? try parseConditional() : nil
            expression = Expression(kind: .conditional(condition: condition, then: expression, otherwise: otherwise),
                                    offset: offset)
        }
        return expression
    }

    private mutating func parseOr() throws(ChatTemplateError) -> Expression {
        var left = try parseAnd()
        var added = 0
        defer { nesting -= added }
        while isName("or") {
            let offset = advance().offset
            try enterNesting(at: offset)
            added += 1
            left = Expression(kind: .or(left, try parseAnd()), offset: offset)
        }
        return left
    }

    private mutating func parseAnd() throws(ChatTemplateError) -> Expression {
        var left = try parseNot()
        var added = 0
        defer { nesting -= added }
        while isName("and") {
            let offset = advance().offset
            try enterNesting(at: offset)
            added += 1
            left = Expression(kind: .and(left, try parseNot()), offset: offset)
        }
        return left
    }

    private mutating func parseNot() throws(ChatTemplateError) -> Expression {
        if isName("not") {
            let offset = advance().offset
            try enterNesting(at: offset)
            defer { nesting -= 1 }
            return Expression(kind: .not(try parseNot()), offset: offset)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(ChatTemplateError) -> Expression {
        let left = try parseAdditive()
        var operands: [(ComparisonOperator, Expression)] = []
        while true {
            if case .symbol(let s) = current.kind, let op = ComparisonOperator(rawValue: s), op != .in, op != .notIn {
                _ = advance()
                operands.append((op, try parseAdditive()))
            } else if isName("in") {
                _ = advance()
                operands.append((.in, try parseAdditive()))
            } else if isName("not"), case .name("in") = peek().kind {
                _ = advance()
                _ = advance()
                operands.append((.notIn, try parseAdditive()))
            } else {
                break
            }
        }
        return operands.isEmpty ? left : Expression(kind: .compare(left, operands), offset: left.offset)
    }

    private mutating func parseAdditive() throws(ChatTemplateError) -> Expression {
        var left = try parseConcat()
        var added = 0
        defer { nesting -= added }
        while case .symbol(let s) = current.kind, s == "+" || s == "-" {
            let offset = advance().offset
            try enterNesting(at: offset)
            added += 1
            left = Expression(kind: .binary(s == "+" ? .add : .subtract, left, try parseConcat()), offset: offset)
        }
        return left
    }

    private mutating func parseConcat() throws(ChatTemplateError) -> Expression {
        let first = try parseMultiplicative()
        guard isSymbol("~") else { return first }
        var parts = [first]
        while skipSymbol("~") { parts.append(try parseMultiplicative()) }
        return Expression(kind: .concat(parts), offset: first.offset)
    }

    private mutating func parseMultiplicative() throws(ChatTemplateError) -> Expression {
        var left = try parsePower()
        var added = 0
        defer { nesting -= added }
        while case .symbol(let s) = current.kind, let op = BinaryOperator(rawValue: s),
              op == .multiply || op == .divide || op == .floorDivide || op == .modulo {
            let offset = advance().offset
            try enterNesting(at: offset)
            added += 1
            left = Expression(kind: .binary(op, left, try parsePower()), offset: offset)
        }
        return left
    }

    private mutating func parsePower() throws(ChatTemplateError) -> Expression {
        var left = try parseUnary(withFilters: true)
        var added = 0
        defer { nesting -= added }
        while isSymbol("**") {
            let offset = advance().offset
            try enterNesting(at: offset)
            added += 1
            left = Expression(kind: .binary(.power, left, try parseUnary(withFilters: true)), offset: offset)
        }
        return left
    }

    private mutating func parseUnary(withFilters: Bool) throws(ChatTemplateError) -> Expression {
        var expression: Expression
        if isSymbol("-") || isSymbol("+") {
            let token = advance()
            try enterNesting(at: token.offset)
            defer { nesting -= 1 }
            let operand = try parseUnary(withFilters: false)
            expression = Expression(kind: token.kind == .symbol("-") ? .negate(operand) : .plus(operand), offset: token.offset)
        } else {
            expression = try parsePrimary()
        }
        expression = try parsePostfix(expression)
        if withFilters { expression = try parseFiltersAndTests(expression) }
        return expression
    }

    private mutating func parsePrimary() throws(ChatTemplateError) -> Expression {
        let token = advance()
        switch token.kind {
        case .name(let name):
            switch name {
            case "true", "True": return Expression(kind: .constant(.bool(true)), offset: token.offset)
            case "false", "False": return Expression(kind: .constant(.bool(false)), offset: token.offset)
            case "none", "None": return Expression(kind: .constant(.none), offset: token.offset)
            default: return Expression(kind: .name(name), offset: token.offset)
            }
        case .string(var text):
            // Adjacent string literals concatenate, as in Python.
            while case .string(let more) = current.kind {
                text += more
                _ = advance()
            }
            return Expression(kind: .constant(.string(text)), offset: token.offset)
        case .integer(let i): return Expression(kind: .constant(.int(i)), offset: token.offset)
        case .float(let d): return Expression(kind: .constant(.double(d)), offset: token.offset)
        case .symbol("("):
            if skipSymbol(")") { return Expression(kind: .tuple([]), offset: token.offset) }
            let inner = try parseTuple()
            try expectSymbol(")")
            return inner
        case .symbol("["):
            var items: [Expression] = []
            while !isSymbol("]") {
                if !items.isEmpty {
                    try expectSymbol(",")
                    if isSymbol("]") { break }
                }
                items.append(try parseExpression())
            }
            try expectSymbol("]")
            return Expression(kind: .list(items), offset: token.offset)
        case .symbol("{"):
            var pairs: [(key: Expression, value: Expression)] = []
            while !isSymbol("}") {
                if !pairs.isEmpty {
                    try expectSymbol(",")
                    if isSymbol("}") { break }
                }
                let key = try parseExpression()
                try expectSymbol(":")
                pairs.append((key, try parseExpression()))
            }
            try expectSymbol("}")
            return Expression(kind: .dict(pairs), offset: token.offset)
        default:
            throw error("unexpected \(describe(token)) in an expression", at: token.offset)
        }
    }

    private mutating func parsePostfix(_ base: Expression) throws(ChatTemplateError) -> Expression {
        var expression = base
        var added = 0
        defer { nesting -= added }
        while true {
            // Postfix expressions report errors at the start of the whole `a.b[c](d)` chain.
            let offset = expression.offset
            if isSymbol(".") || isSymbol("[") || isSymbol("(") {
                try enterNesting(at: current.offset)
                added += 1
            }
            if isSymbol(".") {
                _ = advance()
                let token = advance()
                switch token.kind {
                case .name(let name): expression = Expression(kind: .attribute(expression, name), offset: offset)
                case .integer(let i):
                    expression = Expression(kind: .item(expression, Expression(kind: .constant(.int(i)), offset: token.offset)),
                                            offset: offset)
                default: throw error("expected a name or number after '.', found \(describe(token))", at: token.offset)
                }
            } else if isSymbol("[") {
                expression = try parseSubscript(expression)
            } else if isSymbol("(") {
                expression = Expression(kind: .call(expression, try parseArguments()), offset: offset)
            } else {
                return expression
            }
        }
    }

    private mutating func parseSubscript(_ base: Expression) throws(ChatTemplateError) -> Expression {
        let offset = base.offset
        _ = advance()  // "["
        if isSymbol("]") { throw error("expected a subscript expression inside '[]'", at: current.offset) }
        var start: Expression? = nil
        if !isSymbol(":") { start = try parseExpression() }
        if let key = start, skipSymbol("]") {
            return Expression(kind: .item(base, key), offset: offset)
        }
        if isSymbol(",") {
            throw error("tuple subscripts (x[a, b]) are not supported", at: current.offset, kind: .unsupported)
        }
        try expectSymbol(":")
        var stop: Expression? = nil
        var step: Expression? = nil
        if !isSymbol(":") && !isSymbol("]") { stop = try parseExpression() }
        if skipSymbol(":") && !isSymbol("]") { step = try parseExpression() }
        try expectSymbol("]")
        return Expression(kind: .slice(base, start: start, stop: stop, step: step), offset: offset)
    }

    mutating func parseArguments() throws(ChatTemplateError) -> Arguments {
        try expectSymbol("(")
        var arguments = Arguments()
        var first = true
        while !isSymbol(")") {
            if !first {
                try expectSymbol(",")
                if isSymbol(")") { break }
            }
            first = false
            if isSymbol("*") || isSymbol("**") {
                throw error("'*args' / '**kwargs' in calls are not supported", at: current.offset, kind: .unsupported)
            }
            if case .name(let name) = current.kind, peek().kind == .symbol("=") {
                _ = advance()
                _ = advance()
                arguments.keyword.append((name, try parseExpression()))
            } else {
                guard arguments.keyword.isEmpty else {
                    throw error("positional argument after a keyword argument", at: current.offset)
                }
                arguments.positional.append(try parseExpression())
            }
        }
        try expectSymbol(")")
        return arguments
    }

    private mutating func parseFiltersAndTests(_ base: Expression) throws(ChatTemplateError) -> Expression {
        var expression = base
        var added = 0
        defer { nesting -= added }
        while true {
            if isSymbol("|") || isName("is") || isSymbol("(") {
                try enterNesting(at: current.offset)
                added += 1
            }
            if isSymbol("|") {
                for call in try parseFilterChain(startsInline: false) {
                    expression = Expression(kind: .filter(expression, call), offset: call.offset)
                }
            } else if isName("is") {
                expression = try parseTest(expression)
            } else if isSymbol("(") {
                let offset = current.offset
                expression = Expression(kind: .call(expression, try parseArguments()), offset: offset)
            } else {
                return expression
            }
        }
    }

    /// `| name(args) | name …`; `startsInline` for `{% filter name %}`, which has no leading `|`.
    mutating func parseFilterChain(startsInline: Bool) throws(ChatTemplateError) -> [FilterCall] {
        var calls: [FilterCall] = []
        var inline = startsInline
        while inline || skipSymbol("|") {
            inline = false
            let offset = current.offset
            var name = try expectName()
            while skipSymbol(".") { name += "." + (try expectName()) }
            let arguments = isSymbol("(") ? try parseArguments() : .empty
            let filter = Filter(name: name)
            calls.append(FilterCall(filter: filter, arguments: arguments, offset: offset,
                                    failure: filter == nil ? missingBuiltin("filter", name, at: offset) : nil))
        }
        return calls
    }

    private mutating func parseTest(_ base: Expression) throws(ChatTemplateError) -> Expression {
        let offset = advance().offset  // "is"
        let negated = skipName("not")
        let nameOffset = current.offset
        var name = try expectName()
        while skipSymbol(".") { name += "." + (try expectName()) }
        let test = TestPredicate(name: name)
        var arguments = Arguments.empty
        if isSymbol("(") {
            arguments = try parseArguments()
        } else if startsTestArgument() {
            // `x is divisibleby 3`, `x is sameas false`: one argument without parentheses.
            if isName("is") { throw error("you cannot chain multiple tests with 'is'", at: current.offset) }
            arguments.positional = [try parsePostfix(try parsePrimary())]
        }
        let failure = test == nil ? missingBuiltin("test", name, at: nameOffset) : nil
        return Expression(kind: .test(base, TestCall(test: test, arguments: arguments, negated: negated, offset: nameOffset,
                                                     failure: failure)),
                          offset: offset)
    }

    private func startsTestArgument() -> Bool {
        switch current.kind {
        case .name(let n): return n != "else" && n != "or" && n != "and"
        case .string, .integer, .float, .symbol("("), .symbol("["), .symbol("{"): return true
        default: return false
        }
    }
}
