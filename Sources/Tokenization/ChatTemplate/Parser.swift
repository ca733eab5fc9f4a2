// Turns tokens into statements, following jinja2's parser (statement tags here, expressions in
// ExpressionParser.swift). Anything jinja2 accepts but this interpreter does not implement is
// rejected here, with its line and column, rather than rendered wrong later.

struct Parser {
    var tokens: [Token]
    var index = 0
    let sourceMap: SourceMap
    /// How many `{% for %}` bodies enclose the current point (`break`/`continue` need one).
    private var loopDepth = 0
    /// Inside `{% if %}` (jinja2's "soft frame"), where a missing filter or test fails only if
    /// it runs; for, macro, set and filter bodies start hard frames again.
    var isSoft = false
    /// Missing filters and tests accepted in soft frames (they fail when reached).
    var deferredErrors: [ChatTemplateError] = []
    /// Current nesting of blocks and sub-expressions, bounded so that a hostile template cannot
    /// exhaust the stack of the recursive parser (and of the interpreter that walks its output).
    var nesting = 0
    static let maximumNesting = 200

    mutating func enterNesting(at offset: Int) throws(ChatTemplateError) {
        nesting += 1
        if nesting > Self.maximumNesting {
            throw error("the template nests blocks or expressions more than \(Self.maximumNesting) levels deep", at: offset)
        }
    }

    init(tokens: [Token], sourceMap: SourceMap) {
        self.tokens = tokens
        self.sourceMap = sourceMap
    }

    mutating func parseTemplate() throws(ChatTemplateError) -> [Statement] {
        let (body, _) = try parseBody(until: [])
        return body
    }

    // MARK: - Token stream

    var current: Token { tokens[index] }

    func peek(_ distance: Int = 1) -> Token { tokens[min(index + distance, tokens.count - 1)] }

    mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    func isSymbol(_ symbol: String) -> Bool {
        if case .symbol(symbol) = current.kind { return true }
        return false
    }

    func isName(_ name: String) -> Bool {
        if case .name(name) = current.kind { return true }
        return false
    }

    mutating func skipSymbol(_ symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        _ = advance()
        return true
    }

    mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        _ = advance()
        return true
    }

    mutating func expectSymbol(_ symbol: String) throws(ChatTemplateError) {
        guard skipSymbol(symbol) else { throw error("expected '\(symbol)', found \(describe(current))", at: current.offset) }
    }

    mutating func expectName() throws(ChatTemplateError) -> String {
        guard case .name(let name) = current.kind else {
            throw error("expected a name, found \(describe(current))", at: current.offset)
        }
        _ = advance()
        return name
    }

    mutating func expectBlockEnd() throws(ChatTemplateError) {
        guard current.kind == .blockEnd else {
            throw error("expected '%}' to close the tag, found \(describe(current))", at: current.offset)
        }
        _ = advance()
    }

    func describe(_ token: Token) -> String {
        switch token.kind {
        case .text: return "template text"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string(let s): return "string '\(s)'"
        case .integer(let i): return "'\(i)'"
        case .float(let d): return "'\(d)'"
        case .symbol(let s): return "'\(s)'"
        case .endOfInput: return "end of template"
        }
    }

    func error(_ message: String, at offset: Int, kind: ChatTemplateError.Kind = .syntax) -> ChatTemplateError {
        let (line, column) = sourceMap.location(of: offset)
        return ChatTemplateError(message, kind: kind, line: line, column: column)
    }

    // MARK: - Statements

    /// Parses statements until a `{% name %}` tag whose name is in `endTags`; returns the body and
    /// that name, leaving the stream just after the name. At the end of input returns nil, which
    /// is an error unless the caller is the top level.
    mutating func parseBody(until endTags: Set<String>) throws(ChatTemplateError) -> ([Statement], String?) {
        try enterNesting(at: current.offset)
        defer { nesting -= 1 }
        var body: [Statement] = []
        while true {
            let token = advance()
            switch token.kind {
            case .endOfInput:
                if !endTags.isEmpty {
                    let expected = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw error("unexpected end of template: expected \(expected)", at: token.offset)
                }
                return (body, nil)
            case .text(let text):
                body.append(.text(text))
            case .variableBegin:
                let expression = try checkBuiltins(try parseTuple())
                guard current.kind == .variableEnd else {
                    throw error("expected '}}', found \(describe(current))", at: current.offset)
                }
                _ = advance()
                body.append(.output(expression))
            case .blockBegin:
                guard case .name(let tag) = current.kind else {
                    throw error("expected a statement name after '{%', found \(describe(current))", at: current.offset)
                }
                if endTags.contains(tag) {
                    _ = advance()
                    return (body, tag)
                }
                if tag.hasPrefix("end") || tag == "else" || tag == "elif" {
                    let expected = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw error("unexpected '\(tag)': " + (endTags.isEmpty ? "no block is open" : "expected \(expected)"),
                                at: current.offset)
                }
                body.append(contentsOf: try parseStatement())
            default:
                throw error("unexpected \(describe(token))", at: token.offset)
            }
        }
    }

    private mutating func parseStatement() throws(ChatTemplateError) -> [Statement] {
        let token = advance()
        guard case .name(let tag) = token.kind else { preconditionFailure("parseBody checked the tag name") }
        switch tag {
        case "if": return [try parseIf()]
        case "for": return [try parseFor(offset: token.offset)]
        case "set": return [try parseSet(offset: token.offset)]
        case "macro": return [try parseMacro()]
        case "filter":
            let filters = try parseFilterChain(startsInline: true)
            try checkBuiltins(filters)
            try expectBlockEnd()
            let (body, _) = try parseHardBody(until: ["endfilter"])
            try expectBlockEnd()
            return [.filterBlock(filters: filters, body: body)]
        case "with":
            var assignments: [(AssignTarget, Expression)] = []
            while current.kind != .blockEnd {
                if !assignments.isEmpty { try expectSymbol(",") }
                let target = try parseAssignTarget(allowNamespace: false)
                try expectSymbol("=")
                assignments.append((target, try checkBuiltins(try parseExpression())))
            }
            try expectBlockEnd()
            let (body, _) = try parseHardBody(until: ["endwith"])
            try expectBlockEnd()
            return [.with(assignments: assignments, body: body)]
        case "generation":
            // HF's AssistantTracker extension: renders its body (in a scope of its own, as
            // jinja2's call blocks do); the character offsets it records are not needed here.
            try expectBlockEnd()
            let (body, _) = try parseHardBody(until: ["endgeneration"])
            try expectBlockEnd()
            return [.with(assignments: [], body: body)]
        case "break", "continue":
            guard loopDepth > 0 else { throw error("'\(tag)' outside of a for loop", at: token.offset) }
            try expectBlockEnd()
            return [tag == "break" ? .breakLoop : .continueLoop]
        case "print":
            let expression = try checkBuiltins(try parseTuple())
            try expectBlockEnd()
            return [.output(expression)]
        case "call", "block", "extends", "include", "import", "from", "autoescape", "do":
            throw error("the '{% \(tag) %}' statement is not supported by this chat template interpreter", at: token.offset,
                        kind: .unsupported)
        default:
            throw error("unknown statement '{% \(tag) %}'", at: token.offset)
        }
    }

    private mutating func parseIf() throws(ChatTemplateError) -> Statement {
        var branches: [(condition: Expression, body: [Statement])] = []
        var otherwise: [Statement] = []
        let wasSoft = isSoft
        isSoft = true
        defer { isSoft = wasSoft }
        while true {
            let condition = try checkBuiltins(try parseTuple(withConditional: false))
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            if end == "elif" { continue }
            try expectBlockEnd()
            if end == "else" {
                (otherwise, _) = try parseBody(until: ["endif"])
                try expectBlockEnd()
            }
            return .conditional(branches: branches, otherwise: otherwise)
        }
    }

    private mutating func parseFor(offset: Int) throws(ChatTemplateError) -> Statement {
        let target = try parseAssignTarget(allowNamespace: false)
        guard skipName("in") else { throw error("expected 'in' in for loop, found \(describe(current))", at: current.offset) }
        let iterable = try checkBuiltins(try parseTuple(withConditional: false, extraEndNames: ["recursive"]))
        let wasSoft = isSoft
        isSoft = false
        defer { isSoft = wasSoft }
        let condition = skipName("if") ? try checkBuiltins(try parseExpression()) : nil
        if isName("recursive") {
            throw error("recursive for loops are not supported by this chat template interpreter", at: current.offset,
                        kind: .unsupported)
        }
        try expectBlockEnd()
        loopDepth += 1
        let (body, end) = try parseBody(until: ["endfor", "else"])
        loopDepth -= 1
        try expectBlockEnd()
        var elseBody: [Statement] = []
        if end == "else" {
            (elseBody, _) = try parseBody(until: ["endfor"])
            try expectBlockEnd()
        }
        return .forLoop(ForLoop(target: target, iterable: iterable, condition: condition, body: body, elseBody: elseBody),
                        offset: offset)
    }

    private mutating func parseSet(offset: Int) throws(ChatTemplateError) -> Statement {
        let target = try parseAssignTarget(allowNamespace: true)
        if skipSymbol("=") {
            let value = try checkBuiltins(try parseTuple())
            try expectBlockEnd()
            return .set(target, value, offset: offset)
        }
        let filters = try parseFilterChain(startsInline: false)
        try checkBuiltins(filters)
        try expectBlockEnd()
        let (body, _) = try parseHardBody(until: ["endset"])
        try expectBlockEnd()
        return .setBlock(target, filters: filters, body: body, offset: offset)
    }

    /// A body in a new (non-soft) jinja2 frame.
    private mutating func parseHardBody(until endTags: Set<String>) throws(ChatTemplateError) -> ([Statement], String?) {
        let wasSoft = isSoft
        isSoft = false
        defer { isSoft = wasSoft }
        return try parseBody(until: endTags)
    }

    private mutating func parseAssignTarget(allowNamespace: Bool) throws(ChatTemplateError) -> AssignTarget {
        let first = try expectName()
        if allowNamespace && isSymbol(".") {
            _ = advance()
            return .namespaceAttribute(namespace: first, attribute: try expectName())
        }
        guard isSymbol(",") else { return .name(first) }
        var names = [first]
        while skipSymbol(",") {
            if isName("in") || isSymbol("=") || current.kind == .blockEnd { break }
            names.append(try expectName())
        }
        return .unpack(names)
    }

    private mutating func parseMacro() throws(ChatTemplateError) -> Statement {
        let name = try expectName()
        try expectSymbol("(")
        var parameters: [(name: String, defaultValue: Expression?)] = []
        while !isSymbol(")") {
            if !parameters.isEmpty {
                try expectSymbol(",")
                if isSymbol(")") { break }
            }
            let parameter = try expectName()
            let defaultValue = skipSymbol("=") ? try checkBuiltins(try parseExpression()) : nil
            if defaultValue == nil, parameters.last?.defaultValue != nil {
                throw error("macro parameter '\(parameter)' without a default follows one with a default", at: current.offset)
            }
            parameters.append((parameter, defaultValue))
        }
        try expectSymbol(")")
        try expectBlockEnd()
        let savedLoopDepth = loopDepth
        loopDepth = 0
        let (body, _) = try parseHardBody(until: ["endmacro"])
        loopDepth = savedLoopDepth
        try expectBlockEnd()
        let names = NameCollector.names(in: body)
        return .macro(MacroDefinition(name: name, parameters: parameters, body: body,
                                      acceptsVarargs: names.contains("varargs"), acceptsKwargs: names.contains("kwargs")))
    }
}
