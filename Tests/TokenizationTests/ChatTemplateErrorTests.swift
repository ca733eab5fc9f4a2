import Testing
import Tokenization

// Templates that must fail: with the template's own message for raise_exception, with line and
// column for what this interpreter does not support, never with a silent wrong render.

@Suite("Chat template errors")
struct ChatTemplateErrorTests {
    private func renderError(_ source: String, _ variables: [String: TemplateValue] = [:]) -> ChatTemplateError? {
        do {
            _ = try renderTemplate(source, variables)
            return nil
        } catch {
            return error
        }
    }

    private func parseError(_ source: String) -> ChatTemplateError? {
        do {
            _ = try ChatTemplate(source: source)
            return nil
        } catch {
            return error
        }
    }

    @Test func raiseExceptionCarriesTheTemplateMessage() throws {
        let error = try #require(renderError("ok\n{% if x %}{{ raise_exception('Roles must alternate: ' ~ x) }}{% endif %}", ["x": "u/u"]))
        #expect(error.kind == .raised)
        #expect(error.message == "Roles must alternate: u/u")
        #expect(error.line == 2)
        #expect(error.column == 14)
        #expect(error.description == "chat template line 2, column 14 raised an exception: Roles must alternate: u/u")
    }

    @Test func undefinedAttributeOfUndefinedFailsLikeJinja() throws {
        let error = try #require(renderError("line one\n  {{ message.content.strip() }}"))
        #expect(error.kind == .runtime)
        #expect(error.message == "'message' is undefined")
        #expect(error.line == 2 && error.column == 6)
        // One level of missing attribute is fine (undefined), the next one is an error.
        #expect(try renderTemplate("[{{ m.content }}]", ["m": [:]]) == "[]")
        let nested = try #require(renderError("{{ m.content.strip() }}", ["m": [:]]))
        #expect(nested.message == "'dict object' has no attribute 'content'")
    }

    @Test func typeErrorsAreErrors() throws {
        #expect(renderError("{{ 'a' + 1 }}")?.kind == .runtime)
        #expect(renderError("{{ 1 < 'a' }}")?.message == "'<' not supported between instances of 'int' and 'str'")
        #expect(renderError("{{ [1] + none }}")?.kind == .runtime)
        #expect(renderError("{{ 1 // 0 }}")?.message == "integer division or modulo by zero")
        #expect(renderError("{{ 9223372036854775807 + 1 }}")?.message.hasPrefix("integer overflow") == true)
        #expect(renderError("{{ none|length }}")?.message == "object of type 'NoneType' has no len()")
        #expect(renderError("{% for x in none %}{% endfor %}")?.message == "'NoneType' object is not iterable")
    }

    @Test func sandboxForbidsMutation() throws {
        let error = try #require(renderError("{% set l = [1] %}{{ l.append(2) }}"))
        #expect(error.message.contains("access to attribute 'append' of 'list' object is unsafe"))
        #expect(renderError("{% set d = {} %}{{ d.update({'a': 1}) }}") != nil)
        #expect(renderError("{% set ns = namespace(_private=1) %}") != nil)
        #expect(renderError("{% set x = 1 %}{% set x.attr = 2 %}")?.message == "cannot assign attribute on non-namespace object 'x'")
    }

    @Test func macroArgumentChecks() throws {
        #expect(renderError("{% macro f(a) %}{% endmacro %}{{ f(1, 2) }}")?.message == "macro 'f' takes not more than 1 argument(s)")
        #expect(renderError("{% macro f(a) %}{% endmacro %}{{ f(b=1) }}")?.message == "macro 'f' takes no keyword argument 'b'")
        #expect(renderError("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")?.message.contains("recursed") == true)
    }

    @Test func generatorsCannotBeSerializedOrPrinted() throws {
        let json = try #require(renderError("{{ [1]|map('string')|tojson }}"))
        #expect(json.message == "Object of type generator is not JSON serializable")
        let printed = try #require(renderError("{{ [1, 2]|select('odd') }}"))
        #expect(printed.kind == .unsupported)
        #expect(renderError("{{ [1]|select|length }}")?.message == "object of type 'generator' has no len()")
        #expect(renderError("{{ d.items()|tojson }}", ["d": ["a": 1]])?.message == "Object of type dict_items is not JSON serializable")
    }

    @Test func unsupportedFiltersAreRejectedAtParseTimeWithPosition() throws {
        let error = try #require(parseError("{{ 'a' }}\n{{ text | wordwrap(20) }}"))
        #expect(error.kind == .unsupported)
        #expect(error.line == 2 && error.column == 11)
        #expect(error.message == "the filter 'wordwrap' is not supported by this chat template interpreter")
        #expect(error.description.hasPrefix("chat template line 2, column 11: unsupported:"))
        #expect(parseError("{{ x is filter }}")?.kind == .unsupported)
    }

    @Test func unknownFiltersAreSyntaxErrorsOutsideConditionals() throws {
        let error = try #require(parseError("{{ x | from_json }}"))
        #expect(error.kind == .syntax)
        #expect(error.message == "No filter named 'from_json'.")
    }

    /// jinja2 compiles `{% if %}` bodies and `a if b else c` in "soft" frames, where a missing
    /// filter fails only when it runs; templates rely on it (DeepSeek V3.2 uses `from_json` so).
    @Test func missingFiltersInsideConditionalsFailOnlyWhenReached() throws {
        let template = try ChatTemplate(source: "{% if parse %}{{ x | from_json }}{% else %}{{ x }}{% endif %}{{ x|zzz if parse }}")
        #expect(template.deferredErrors.count == 2)
        #expect(try template.render(messages: [], addGenerationPrompt: false, variables: ["parse": false, "x": "{}"]) == "{}")
        #expect(throws: ChatTemplateError.self) {
            try template.render(messages: [], addGenerationPrompt: false, variables: ["parse": true, "x": "{}"])
        }
        // A for body inside the if is a hard frame again.
        #expect(parseError("{% if c %}{% for i in x %}{{ i|from_json }}{% endfor %}{% endif %}")?.kind == .syntax)
    }

    @Test(arguments: [
        ("{% call m() %}x{% endcall %}", "the '{% call %}' statement is not supported"),
        ("{% for x in y recursive %}{% endfor %}", "recursive for loops are not supported"),
        ("{% include 'other.jinja' %}", "the '{% include %}' statement is not supported"),
        ("{{ f(*args) }}", "'*args' / '**kwargs' in calls are not supported"),
        ("{{ 'x'.encode() }}", "the string method 'encode' is not supported"),
        ("{{ '{:>5}'.format(1) }}", "format field '{:>5}' is not supported"),
    ])
    func unsupportedConstructsSayWhat(template: String, message: String) throws {
        let error = try #require(parseError(template) ?? renderError(template, ["y": [], "x": "s"]))
        #expect(error.kind == .unsupported)
        #expect(error.message.hasPrefix(message), "\(error)")
        #expect(error.line == 1)
    }

    @Test(arguments: [
        ("{% if x %}never closed", "unexpected end of template: expected 'elif' or 'else' or 'endif'"),
        ("{% endfor %}", "unexpected 'endfor': no block is open"),
        ("{{ 1 + }}", "unexpected '}}' in an expression"),
        ("{{ x", "unexpected end of template: this tag is never closed with '}}'"),
        ("{{ 'unterminated }}", "unterminated string literal"),
        ("{# never closed", "missing end of comment tag '#}'"),
        ("{% break %}", "'break' outside of a for loop"),
        ("{{ (1 ] }}", "unexpected ']', expected ')'"),
        ("{% frobnicate %}", "unknown statement '{% frobnicate %}'"),
        ("{{ a ! b }}", "unexpected character '!' inside a tag"),
    ])
    func syntaxErrorsHaveAPosition(template: String, message: String) throws {
        let error = try #require(parseError(template))
        #expect(error.kind == .syntax)
        #expect(error.message == message)
        #expect(error.line == 1 && error.column != nil)
    }
}

@Suite("Chat template limits")
struct ChatTemplateLimitTests {
    @Test func deepNestingIsASyntaxErrorNotACrash() throws {
        let parentheses = "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}"
        let chain = "{{ a" + String(repeating: ".b", count: 20000) + " }}"
        let blocks = String(repeating: "{% if true %}", count: 3000) + String(repeating: "{% endif %}", count: 3000)
        for source in [parentheses, chain, blocks] {
            #expect {
                try ChatTemplate(source: source)
            } throws: { error in
                (error as? ChatTemplateError)?.message.contains("nests blocks or expressions more than") == true
            }
        }
    }

    /// The worst the limits allow: a macro recursing to the maximum depth from inside deeply
    /// nested expressions must still finish (with an error), within the stack of a test thread.
    @Test func recursionAtTheLimitsFinishes() throws {
        let open = String(repeating: "(", count: 40)
        let close = String(repeating: ")", count: 40)
        let source = "{% macro f(n) %}{{ \(open)f(n + 1)\(close) }}{% endmacro %}{{ f(0) }}"
        #expect {
            try ChatTemplate(source: source).render(messages: [], addGenerationPrompt: false)
        } throws: { error in
            (error as? ChatTemplateError)?.message.contains("recursed more than") == true
        }
    }
}
