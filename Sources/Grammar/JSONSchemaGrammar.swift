import JSON

/// JSON Schema → GBNF: the grammar of the compact-or-lightly-spaced JSON texts that validate
/// against a schema. Supported:
///
/// - `type` (a name or a list, e.g. `["string", "null"]`), OpenAPI's `nullable: true`; no type
///   and no typed keyword: any JSON value. Schema `true` / `{}`: any value.
/// - objects: `properties` in the schema's order (the grammar fixes that order; a property not
///   listed in `required` may be left out), `required` (a required name without a declared
///   schema takes what `additionalProperties` allows; with `additionalProperties: false` that
///   is an error, as no object satisfies it), `additionalProperties`: false, true or a schema (extra keys come
///   after the declared ones and can never repeat a declared name). When `properties` is given
///   and `additionalProperties` is absent, only declared properties are generated (a valid
///   subset of what the schema allows); an object schema without `properties` takes any keys.
/// - arrays: `items` (a schema), `minItems`, `maxItems`.
/// - `enum`, `const` (values written as compact JSON).
/// - strings: `minLength`, `maxLength` (counted in characters; an escape is one character);
///   `format`: `date` (valid calendar dates, February 29 excluded), `time`, `date-time`
///   (RFC 3339, `Z` or an offset), `uuid` (8-4-4-4-12 hex digits), `email` (an approximation:
///   `local@label.label`, ASCII letters, digits and `._%+-`).
/// - integers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (numbers, or
///   draft-4 booleans) are exact: the digits are constrained to the range (IntegerRangePattern).
/// - numbers: bounds are applied on an integer grid, inward: a non-integer bound is rounded
///   towards the inside and an exclusive bound b becomes b ± 1, so every generated number is
///   in range, but some in-range values close to such a bound cannot be generated. Bounded
///   numbers have no exponent.
/// - `anyOf`, `oneOf` (as alternatives: the grammar does not stop an output from matching two
///   `oneOf` branches, so keep branches disjoint), `allOf` with a single schema, `$ref` to `#`,
///   `#/$defs/…`, `#/definitions/…` or any JSON pointer in the document, recursion included.
///
/// Unbounded parts are bounded so a model cannot loop forever on them: integers have at most 16
/// digits, fractions 16 digits, exponents 3 digits; whitespace is none, one space, or one newline
/// followed by up to 20 spaces or tabs, between tokens only (never before the value or after it).
///
/// Annotations (`title`, `description`, `default`, `examples`, `$schema`, `$id`, `$comment`,
/// `deprecated`, `readOnly`, `writeOnly`, keys starting with `x-`) are ignored. Any other keyword
/// (`pattern`, `patternProperties`, `propertyNames`, `minProperties`, `if`/`then`/`else`, `not`,
/// `uniqueItems`, `contains`, `prefixItems`, `multipleOf`, ...) is a `GrammarError` naming it: a
/// constraint the grammar cannot enforce is refused, never silently dropped.
public enum JSONSchemaGrammar {
    /// GBNF rules for `schema` (all names start with `rulePrefix`), its start rule named `rootRule`.
    public static func gbnf(for schema: JSONValue, rootRule: String = "root", rulePrefix: String = "") throws(GrammarError) -> String {
        var compiler = SchemaCompiler(root: schema, prefix: rulePrefix)
        let body = try compiler.compile(schema, path: "")
        compiler.define(rootRule, body)
        return compiler.text(startingWith: rootRule)
    }

    /// Any JSON object, with the same whitespace and number bounds as schema grammars.
    static let anyObjectGBNF: String = {
        var compiler = SchemaCompiler(root: .object(JSONObject()), prefix: "")
        let body = compiler.primitive("object")
        compiler.define("root", body)
        return compiler.text(startingWith: "root")
    }()
}

/// The compilation of one schema document into rules.
struct SchemaCompiler {
    let root: JSONValue
    let prefix: String
    private var rules: [(name: String, body: String)] = []
    private var ruleNames: Set<String> = []
    /// `$ref` target → its rule (defined once, so recursive references terminate).
    private var referenceRules: [String: String] = [:]
    private var depth = 0
    /// Schemas nest at most this deep (recursion through `$ref` does not count).
    static let maximumDepth = 100

    static let annotations: Set<String> = [
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly",
        "writeOnly", "$defs", "definitions",
    ]
    static let supported: Set<String> = [
        "type", "nullable", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "properties", "required",
        "additionalProperties", "items", "minItems", "maxItems", "minLength", "maxLength", "format", "minimum",
        "maximum", "exclusiveMinimum", "exclusiveMaximum",
    ]
    static let formats = ["date", "time", "date-time", "uuid", "email"]

    init(root: JSONValue, prefix: String) {
        self.root = root
        self.prefix = prefix
    }

    /// The rules as GBNF text, `first` first.
    func text(startingWith first: String) -> String {
        let ordered = rules.filter { $0.name == first } + rules.filter { $0.name != first }
        return ordered.map { "\($0.name) ::= \($0.body)" }.joined(separator: "\n") + "\n"
    }

    mutating func define(_ name: String, _ body: String) {
        if let index = rules.firstIndex(where: { $0.name == name }) {
            rules[index].body = body
        } else {
            rules.append((name, body))
            ruleNames.insert(name)
        }
    }

    /// A fresh rule name from a hint (letters, digits and '-' only).
    private mutating func newRuleName(_ hint: String) -> String {
        var base = prefix + String(hint.unicodeScalars.map { GBNFParser.isNameScalar($0.value) && $0 != "_" ? Character($0) : "-" })
        if base.isEmpty || base == prefix { base = prefix + "rule" }
        var name = base
        var counter = 1
        while ruleNames.contains(name) {
            counter += 1
            name = "\(base)-\(counter)"
        }
        ruleNames.insert(name)
        rules.append((name, "\"\""))
        return name
    }

    /// The shared rules: ws, char, string, number, integer, boolean, null, value, object, array.
    mutating func primitive(_ kind: String) -> String {
        let name = prefix + kind
        if ruleNames.contains(name) { return name }
        ruleNames.insert(name)
        rules.append((name, "\"\""))
        let body: String
        switch kind {
        case "ws": body = #"| " " | "\n" [ \t]{0,20}"#
        case "char": body = #"[^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" ([0-9a-cA-CefEF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}))"#
        case "string": body = #""\"" \#(primitive("char"))* "\"""#
        case "number": body = #""-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?"#
        case "integer": body = #""-"? ("0" | [1-9] [0-9]{0,15})"#
        case "boolean": body = #""true" | "false""#
        case "null": body = #""null""#
        case "value":
            body = ["object", "array", "string", "number", "boolean", "null"].map { primitive($0) }.joined(separator: " | ")
        case "object":
            let ws = primitive("ws"), string = primitive("string"), value = primitive("value")
            body = #""{" \#(ws) (\#(string) ":" \#(ws) \#(value) (\#(ws) "," \#(ws) \#(string) ":" \#(ws) \#(value))* \#(ws))? "}""#
        case "array":
            let ws = primitive("ws"), value = primitive("value")
            body = #""[" \#(ws) (\#(value) (\#(ws) "," \#(ws) \#(value))* \#(ws))? "]""#
        case "date":
            let day28 = #"("0" [1-9] | "1" [0-9] | "2" [0-8])"#
            body = #"[0-9]{4} "-" (("0" [13578] | "1" [02]) "-" (\#(day28) | "29" | "3" [01]) | ("0" [469] | "11") "-" (\#(day28) | "29" | "30") | "02-" \#(day28))"#
        case "time":
            body = #"([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9])"#
        default:
            fatalError("unknown primitive \(kind)")
        }
        define(name, body)
        return name
    }

    /// A GBNF expression for the values valid under `schema` at `path` (for messages).
    mutating func compile(_ schema: JSONValue, path: String) throws(GrammarError) -> String {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw GrammarError("the schema nests more than \(Self.maximumDepth) levels deep at \(where_(path))")
        }
        switch schema {
        case .bool(true):
            return primitive("value")
        case .bool(false):
            throw GrammarError("the schema at \(where_(path)) is false: no value can satisfy it")
        case .object(let object):
            return try compileObjectSchema(object, path: path)
        default:
            throw GrammarError("the schema at \(where_(path)) must be an object or a boolean, but it is \(schema.typeDescription)")
        }
    }

    private func where_(_ path: String) -> String { path.isEmpty ? "the top level" : "'\(path)'" }

    private func child(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    private mutating func compileObjectSchema(_ schema: JSONObject, path: String) throws(GrammarError) -> String {
        for key in schema.keys where !Self.annotations.contains(key) && !Self.supported.contains(key) && !key.hasPrefix("x-") {
            throw GrammarError("unsupported JSON Schema keyword '\(key)' at \(where_(path)): constrained generation cannot enforce it; remove it", keyword: key)
        }
        if let reference = schema["$ref"] {
            guard case .string(let target) = reference else {
                throw GrammarError("'$ref' at \(where_(path)) must be a string", keyword: "$ref")
            }
            if let sibling = schema.keys.first(where: { Self.supported.contains($0) && $0 != "$ref" }) {
                throw GrammarError("'$ref' at \(where_(path)) has a sibling keyword '\(sibling)'; move the constraint into the referenced schema", keyword: sibling)
            }
            return try compileReference(target, path: path)
        }
        var alternatives: [String]
        if let value = schema["const"] {
            alternatives = [GBNF.literal(value.jsonText)]
        } else if let values = schema["enum"] {
            guard case .array(let list) = values, !list.isEmpty else {
                throw GrammarError("'enum' at \(where_(path)) must be a non-empty array", keyword: "enum")
            }
            alternatives = list.map { GBNF.literal($0.jsonText) }
        } else if let branches = schema["anyOf"] ?? schema["oneOf"] ?? schema["allOf"] {
            let keyword = schema["anyOf"] != nil ? "anyOf" : schema["oneOf"] != nil ? "oneOf" : "allOf"
            guard case .array(let list) = branches, !list.isEmpty else {
                throw GrammarError("'\(keyword)' at \(where_(path)) must be a non-empty array of schemas", keyword: keyword)
            }
            if keyword == "allOf" && list.count > 1 {
                throw GrammarError("'allOf' with more than one schema at \(where_(path)) is not supported; merge the schemas into one", keyword: "allOf")
            }
            let combiners = ["anyOf", "oneOf", "allOf"].filter { schema[$0] != nil }
            if combiners.count > 1 {
                throw GrammarError("'\(combiners[0])' and '\(combiners[1])' together at \(where_(path)) are not supported", keyword: combiners[1])
            }
            if let sibling = schema.keys.first(where: { Self.supported.contains($0) && $0 != keyword && $0 != "nullable" }) {
                throw GrammarError("'\(keyword)' at \(where_(path)) has a sibling keyword '\(sibling)'; move the constraint into each branch", keyword: sibling)
            }
            alternatives = []
            for (index, branch) in list.enumerated() {
                alternatives.append(try compile(branch, path: "\(child(path, keyword))[\(index)]"))
            }
        } else {
            alternatives = []
            for type in try types(schema, path: path) {
                alternatives.append(try compileTyped(type, schema, path: path))
            }
        }
        if schema["nullable"]?.boolValue == true && !alternatives.contains(primitive("null")) {
            alternatives.append(primitive("null"))
        }
        return alternatives.count == 1 ? alternatives[0] : "(" + alternatives.joined(separator: " | ") + ")"
    }

    /// The types a schema allows: `type`, else the one its keywords imply, else all.
    private func types(_ schema: JSONObject, path: String) throws(GrammarError) -> [String] {
        let known = ["string", "number", "integer", "boolean", "null", "object", "array"]
        switch schema["type"] {
        case .string(let name)?:
            guard known.contains(name) else {
                throw GrammarError("unknown type '\(name)' at \(where_(path)); expected one of \(known.joined(separator: ", "))", keyword: "type")
            }
            return [name]
        case .array(let names)?:
            var result: [String] = []
            for name in names {
                guard let text = name.stringValue, known.contains(text) else {
                    throw GrammarError("'type' at \(where_(path)) lists \(name.jsonText); expected names among \(known.joined(separator: ", "))", keyword: "type")
                }
                if !result.contains(text) { result.append(text) }
            }
            guard !result.isEmpty else { throw GrammarError("'type' at \(where_(path)) is an empty list", keyword: "type") }
            return result
        case nil:
            if ["properties", "additionalProperties", "required"].contains(where: { schema[$0] != nil }) { return ["object"] }
            if ["items", "minItems", "maxItems"].contains(where: { schema[$0] != nil }) { return ["array"] }
            if ["minLength", "maxLength", "format"].contains(where: { schema[$0] != nil }) { return ["string"] }
            if ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"].contains(where: { schema[$0] != nil }) { return ["number"] }
            return ["value"]
        case let other?:
            throw GrammarError("'type' at \(where_(path)) must be a string or a list of strings, but it is \(other.typeDescription)", keyword: "type")
        }
    }

    private mutating func compileTyped(_ type: String, _ schema: JSONObject, path: String) throws(GrammarError) -> String {
        switch type {
        case "string": return try compileString(schema, path: path)
        case "integer": return try compileInteger(schema, path: path)
        case "number": return try compileNumber(schema, path: path)
        case "object": return try compileObject(schema, path: path)
        case "array": return try compileArray(schema, path: path)
        default: return primitive(type)   // boolean, null, value
        }
    }

    private mutating func compileString(_ schema: JSONObject, path: String) throws(GrammarError) -> String {
        let minimum = try count(schema, "minLength", path: path) ?? 0
        let maximum = try count(schema, "maxLength", path: path)
        if let format = schema["format"] {
            guard case .string(let name) = format, Self.formats.contains(name) else {
                throw GrammarError("unsupported string format \(format.jsonText) at \(where_(path)); supported: \(Self.formats.joined(separator: ", "))", keyword: "format")
            }
            if let keyword = ["minLength", "maxLength"].first(where: { schema[$0] != nil }) {
                throw GrammarError("'\(keyword)' together with 'format' at \(where_(path)) is not supported", keyword: keyword)
            }
            let body: String
            switch name {
            case "date": body = primitive("date")
            case "time": body = primitive("time")
            case "date-time": body = "\(primitive("date")) \"T\" \(primitive("time"))"
            case "uuid": body = #"[0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12}"#
            default: body = #"[A-Za-z0-9._%+-]{1,64} "@" [A-Za-z0-9] [A-Za-z0-9-]{0,62} ("." [A-Za-z0-9] [A-Za-z0-9-]{0,62}){1,3}"#
            }
            return "\"\\\"\" " + body + " \"\\\"\""
        }
        if minimum == 0 && maximum == nil { return primitive("string") }
        if let maximum, maximum < minimum {
            throw GrammarError("'maxLength' \(maximum) is below 'minLength' \(minimum) at \(where_(path))", keyword: "maxLength")
        }
        let bounds = maximum.map { "{\(minimum),\($0)}" } ?? "{\(minimum),}"
        return "\"\\\"\" \(primitive("char"))\(bounds) \"\\\"\""
    }

    /// Integer bounds from minimum/maximum and their exclusive forms; nil where unbounded.
    private func integerBounds(_ schema: JSONObject, path: String, roundInward: Bool) throws(GrammarError) -> (Int?, Int?) {
        func number(_ key: String) throws(GrammarError) -> Double? {
            guard let value = schema[key] else { return nil }
            if case .bool = value { return nil }
            guard let number = value.doubleValue, number.isFinite else {
                throw GrammarError("'\(key)' at \(where_(path)) must be a number", keyword: key)
            }
            return number
        }
        let limit = Double(Self.magnitudeLimit)
        var lower: Double? = try number("minimum")
        var upper: Double? = try number("maximum")
        var lowerExclusive = schema["exclusiveMinimum"]?.boolValue == true
        var upperExclusive = schema["exclusiveMaximum"]?.boolValue == true
        if let exclusive = try number("exclusiveMinimum"), lower == nil || exclusive >= lower! {
            lower = exclusive; lowerExclusive = true
        }
        if let exclusive = try number("exclusiveMaximum"), upper == nil || exclusive <= upper! {
            upper = exclusive; upperExclusive = true
        }
        var lowerInteger: Int? = nil, upperInteger: Int? = nil
        if let lower {
            var value = lower.rounded(.up)
            if lowerExclusive && value == lower { value += 1 }
            lowerInteger = Int(max(min(value, limit), -limit))
        }
        if let upper {
            var value = upper.rounded(.down)
            if upperExclusive && value == upper { value -= 1 }
            upperInteger = Int(max(min(value, limit), -limit))
        }
        if let lowerInteger, let upperInteger, lowerInteger > upperInteger {
            throw GrammarError("no \(roundInward ? "number the grammar can write (bounds are applied on whole numbers)" : "integer") lies between the 'minimum' and 'maximum' bounds at \(where_(path))", keyword: "minimum")
        }
        return (lowerInteger, upperInteger)
    }

    /// Magnitudes past this are not generated when a bound is open (16 digits).
    static let magnitudeLimit = 9_999_999_999_999_999

    private mutating func compileInteger(_ schema: JSONObject, path: String) throws(GrammarError) -> String {
        let (lower, upper) = try integerBounds(schema, path: path, roundInward: false)
        if lower == nil && upper == nil { return primitive("integer") }
        return IntegerRangePattern.gbnf(lower ?? -Self.magnitudeLimit, upper ?? Self.magnitudeLimit)
    }

    private mutating func compileNumber(_ schema: JSONObject, path: String) throws(GrammarError) -> String {
        let (lowerBound, upperBound) = try integerBounds(schema, path: path, roundInward: true)
        if lowerBound == nil && upperBound == nil { return primitive("number") }
        let limit = Self.magnitudeLimit / 10    // so that upper - 1 etc. stay in range
        let lower = max(lowerBound ?? -limit, -limit), upper = min(upperBound ?? limit, limit)
        guard lower <= upper else {
            throw GrammarError("no number the grammar can write lies between the 'minimum' and 'maximum' bounds at \(where_(path))", keyword: "minimum")
        }
        // x = I.F: with |x| in [low, high] (whole numbers), I in low…high-1 takes any fraction and
        // I = high only zeros.
        func magnitude(_ low: Int, _ high: Int) -> String {
            var parts: [String] = []
            if low <= high - 1 { parts.append(IntegerRangePattern.gbnf(low, high - 1) + #" ("." [0-9]{1,16})?"#) }
            parts.append(IntegerRangePattern.gbnf(high, high) + #" ("." "0"{1,16})?"#)
            return "(" + parts.joined(separator: " | ") + ")"
        }
        var alternatives: [String] = []
        if upper >= 0 { alternatives.append(magnitude(max(lower, 0), upper)) }
        if lower < 0 { alternatives.append("\"-\" " + magnitude(upper >= 0 ? 0 : -upper, -lower)) }
        return "(" + alternatives.joined(separator: " | ") + ")"
    }

    private func count(_ schema: JSONObject, _ key: String, path: String) throws(GrammarError) -> Int? {
        guard let value = schema[key] else { return nil }
        guard let number = value.intValue, number >= 0 else {
            throw GrammarError("'\(key)' at \(where_(path)) must be a non-negative integer", keyword: key)
        }
        guard number <= GBNFParser.maximumRepetition else {
            throw GrammarError("'\(key)' at \(where_(path)) is above the supported limit of \(GBNFParser.maximumRepetition)", keyword: key)
        }
        return number
    }

    private mutating func compileArray(_ schema: JSONObject, path: String) throws(GrammarError) -> String {
        let ws = primitive("ws")
        let minimum = try count(schema, "minItems", path: path) ?? 0
        let maximum = try count(schema, "maxItems", path: path)
        if let maximum, maximum < minimum {
            throw GrammarError("'maxItems' \(maximum) is below 'minItems' \(minimum) at \(where_(path))", keyword: "maxItems")
        }
        if maximum == 0 { return #""[" \#(ws) "]""# }
        let element: String
        switch schema["items"] {
        case nil: element = primitive("value")
        case .array?:
            throw GrammarError("'items' as a list (tuple validation) at \(where_(path)) is not supported", keyword: "items")
        case let items?:
            let expression = try compile(items, path: child(path, "items"))
            let rule = newRuleName(child(path, "item"))
            define(rule, expression)
            element = rule
        }
        let rest = "(\(ws) \",\" \(ws) \(element))"
        let restBounds = "{\(max(minimum - 1, 0)),\(maximum.map { String($0 - 1) } ?? "")}"
        if minimum == 0 {
            return #""[" \#(ws) (\#(element) \#(rest)\#(restBounds) \#(ws))? "]""#
        }
        return #""[" \#(ws) \#(element) \#(rest)\#(restBounds) \#(ws) "]""#
    }

    private mutating func compileObject(_ schema: JSONObject, path: String) throws(GrammarError) -> String {
        let ws = primitive("ws")
        var names: [String] = []
        var valueSchemas: [JSONValue] = []
        switch schema["properties"] {
        case nil: break
        case .object(let properties)?:
            for (name, value) in properties { names.append(name); valueSchemas.append(value) }
        case let other?:
            throw GrammarError("'properties' at \(where_(path)) must be an object, but it is \(other.typeDescription)", keyword: "properties")
        }
        var required: Set<String> = []
        if let list = schema["required"] {
            guard case .array(let items) = list else {
                throw GrammarError("'required' at \(where_(path)) must be an array of names", keyword: "required")
            }
            for item in items {
                guard let name = item.stringValue else {
                    throw GrammarError("'required' at \(where_(path)) must list strings", keyword: "required")
                }
                required.insert(name)
                guard !names.contains(name) else { continue }
                // A required name without a declared schema takes what additionalProperties allows.
                switch schema["additionalProperties"] {
                case .bool(false)?:
                    throw GrammarError("required property '\(name)' at \(where_(path)) is not in 'properties' while 'additionalProperties' is false: no object satisfies the schema", keyword: "required")
                case nil, .bool(true)?: valueSchemas.append(.bool(true))
                case let extra?: valueSchemas.append(extra)
                }
                names.append(name)
            }
        }
        // Extra properties: their value expression, or nil when none may be generated.
        var extraValue: String?
        switch schema["additionalProperties"] {
        case nil: extraValue = schema["properties"] == nil ? primitive("value") : nil
        case .bool(false)?: extraValue = nil
        case .bool(true)?: extraValue = primitive("value")
        case let extra?:
            let rule = newRuleName(child(path, "additional"))
            define(rule, try compile(extra, path: child(path, "additionalProperties")))
            extraValue = rule
        }

        let objectName = newRuleName(path.isEmpty ? "object" : path)
        var pairs: [String] = []
        for (index, name) in names.enumerated() {
            let value = try compile(valueSchemas[index], path: child(child(path, "properties"), name))
            let rule = newRuleName("\(objectName)-\(name)-kv")
            define(rule, "\(GBNF.literal(JSONValue.string(name).jsonText)) \":\" \(ws) \(value)")
            pairs.append(rule)
        }
        var extraPair: String?
        if let extraValue {
            let key = names.isEmpty ? primitive("string") : excludingKey(names, objectName: objectName)
            let rule = newRuleName("\(objectName)-extra-kv")
            define(rule, "\(key) \":\" \(ws) \(extraValue)")
            extraPair = rule
        }
        // tail(i, first): the members from property i on; `first` when nothing was written yet
        // (no comma before the next member).
        let separator = "\(ws) \",\" \(ws)"
        func tailName(_ index: Int, _ first: Bool) -> String { "\(objectName)-tail\(index)\(first ? "-first" : "")" }
        for index in stride(from: names.count, through: 0, by: -1) {
            for first in [true, false] {
                let name = tailName(index, first)
                let lead = first ? "" : separator + " "
                let body: String
                if index == names.count {
                    if let extraPair {
                        body = "(\(lead)\(extraPair) (\(separator) \(extraPair))*)?"
                    } else {
                        body = "\"\""
                    }
                } else if required.contains(names[index]) {
                    body = "\(lead)\(pairs[index]) \(tailName(index + 1, false))"
                } else {
                    body = "\(lead)\(pairs[index]) \(tailName(index + 1, false)) | \(tailName(index + 1, first))"
                }
                define(name, body)
            }
        }
        let hasMembers = !names.isEmpty || extraPair != nil
        define(objectName, hasMembers ? #""{" \#(ws) \#(tailName(0, true)) \#(ws) "}""# : #""{" \#(ws) "}""#)
        return objectName
    }

    /// A JSON string key (quotes included) that is none of `names`: plain characters only (no
    /// escapes, so a declared name cannot be spelled another way), built on a trie of the names.
    private mutating func excludingKey(_ names: [String], objectName: String) -> String {
        let plain = names.filter { name in !name.unicodeScalars.contains { $0 == "\"" || $0 == "\\" || $0.value < 0x20 } }
        let keyCharacter = #"[^"\\\x00-\x1F]"#
        func escaped(_ scalar: Unicode.Scalar) -> String {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return scalar.value > 0xFFFF ? "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
                : "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
        // node(prefix): the rest of a key that starts with `prefix` (a prefix of some name).
        func node(_ prefix: [Unicode.Scalar]) -> String {
            let rule = newRuleName("\(objectName)-key")
            let continuing = plain.map { Array($0.unicodeScalars) }.filter { $0.count > prefix.count && Array($0[..<prefix.count]) == prefix }
            var nextScalars: [Unicode.Scalar] = []
            for name in continuing where !nextScalars.contains(name[prefix.count]) { nextScalars.append(name[prefix.count]) }
            let isName = plain.contains { Array($0.unicodeScalars) == prefix }
            var alternatives: [String] = []
            if !isName { alternatives.append(#""\"""#) }
            let excluded = nextScalars.map(escaped).joined()
            alternatives.append("[^\"\\\\\\x00-\\x1F\(excluded)] \(keyCharacter)* \"\\\"\"")
            for scalar in nextScalars {
                alternatives.append("[\(escaped(scalar))] \(node(prefix + [scalar]))")
            }
            define(rule, alternatives.joined(separator: " | "))
            return rule
        }
        return "\"\\\"\" " + node([])
    }

    /// A JSON pointer token with `~1` → `/` and `~0` → `~` (RFC 6901).
    private static func unescapedPointerToken(_ token: Substring) -> String {
        var result = ""
        var iterator = token.makeIterator()
        while let character = iterator.next() {
            guard character == "~" else { result.append(character); continue }
            switch iterator.next() {
            case "1": result.append("/")
            case "0": result.append("~")
            case let other?: result.append("~"); result.append(other)
            case nil: result.append("~")
            }
        }
        return result
    }

    private mutating func compileReference(_ target: String, path: String) throws(GrammarError) -> String {
        if let rule = referenceRules[target] { return rule }
        guard target.hasPrefix("#") else {
            throw GrammarError("'$ref' \(target) at \(where_(path)) is not a reference inside the schema (only '#…' references are supported)", keyword: "$ref")
        }
        var node = root
        let pointer = target.dropFirst()
        if !pointer.isEmpty {
            guard pointer.hasPrefix("/") else {
                throw GrammarError("'$ref' \(target) at \(where_(path)) is not a JSON pointer ('#/$defs/Name')", keyword: "$ref")
            }
            for rawPart in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                let part = Self.unescapedPointerToken(rawPart)
                switch node {
                case .object(let object) where object[part] != nil: node = object[part]!
                case .array(let array) where Int(part).map({ array.indices.contains($0) }) == true: node = array[Int(part)!]
                default:
                    throw GrammarError("'$ref' \(target) at \(where_(path)) points to nothing in the schema", keyword: "$ref")
                }
            }
        }
        let rule = newRuleName("ref-" + (target == "#" ? "root" : String(target.split(separator: "/").last ?? "")))
        referenceRules[target] = rule
        define(rule, try compile(node, path: target))
        return rule
    }
}
