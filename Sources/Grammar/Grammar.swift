import JSON

/// A compiled grammar: the language generation is constrained to.
///
/// How to constrain generation (what the engine and the server do):
///
///     // From a JSON Schema (OpenAI `response_format: {"type": "json_schema", ...}`, a tool's
///     // `parameters`): throws a GrammarError naming an unsupported keyword.
///     let grammar = try Grammar(jsonSchema: schema)          // schema: JSONValue
///     // Any JSON object (`response_format: {"type": "json_object"}`):
///     let grammar = Grammar.anyJSONObject
///     // GBNF text (llama.cpp's form, the `grammar` request extension):
///     let grammar = try Grammar(gbnf: #"root ::= "yes" | "no""#)
///
///     var request = GenerationRequest(id: id, prompt: tokens, sampling: sampling)
///     request.grammar = grammar      // the engine masks every sampled token with it
///
/// The engine keeps one `GrammarMatcher` per session over a `TokenTrie` of its vocabulary: at
/// every step `GrammarMatcher.fillMask` computes the tokens that keep the output a prefix of a
/// sentence of the grammar, the sampler draws among them, and `GrammarMatcher.accept` advances
/// the state with the chosen token. End-of-generation tokens are allowed only once the output is
/// complete; when nothing more can follow, generation stops (finish reason `stop`).
///
/// To embed a schema in a larger grammar (e.g. a tool call wrapped in `<tool_call>` tags), get
/// its rules as GBNF text with a rule prefix and refer to its root rule:
///
///     let arguments = try JSONSchemaGrammar.gbnf(for: schema, rootRule: "get-weather-args", rulePrefix: "get-weather-")
///     let grammar = try Grammar(gbnf: "root ::= " + GBNF.literal("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": ")
///                                   + " get-weather-args " + GBNF.literal("}\n</tool_call>") + "\n" + arguments)
///
/// A `Grammar` is immutable and can be shared between requests and threads.
public struct Grammar: Sendable {
    /// Every rule alternative in one array, each a run of elements ending with `.end`.
    let elements: [GrammarElement]
    /// Per rule, where each of its alternatives starts in `elements`.
    let alternativeStarts: [[Int32]]
    /// Per rule, its name (generated rules: the enclosing rule's name and a suffix).
    let ruleNames: [String]
    let classes: [CharacterClass]
    let rootRule: Int32
    /// The GBNF text this grammar was compiled from (for a JSON Schema: the GBNF written for it),
    /// with its start rule: equal sources mean equal grammars (the engine shares tables by it).
    public private(set) var source = ""

    init(elements: [GrammarElement], alternativeStarts: [[Int32]], ruleNames: [String], classes: [CharacterClass], rootRule: Int32) {
        self.elements = elements
        self.alternativeStarts = alternativeStarts
        self.ruleNames = ruleNames
        self.classes = classes
        self.rootRule = rootRule
    }

    /// Parses GBNF text (see `GBNFParser` for the syntax); generation starts at rule `root`.
    public init(gbnf: String, root: String = "root") throws(GrammarError) {
        var parser = GBNFParser(gbnf)
        let rules = try parser.parse()
        guard !rules.isEmpty else { throw GrammarError("the grammar is empty; define at least a '\(root)' rule") }
        self = try GrammarLowering.lower(rules, root: root)
        source = root + "\n" + gbnf
    }

    /// The grammar of JSON texts valid under `schema` (see `JSONSchemaGrammar` for what is
    /// supported and how; anything else is a `GrammarError` naming the keyword).
    public init(jsonSchema schema: JSONValue) throws(GrammarError) {
        try self.init(gbnf: JSONSchemaGrammar.gbnf(for: schema))
    }

    /// Any JSON object (JSON mode).
    public static let anyJSONObject: Grammar = {
        do { return try Grammar(gbnf: JSONSchemaGrammar.anyObjectGBNF) } catch { fatalError("built-in JSON grammar: \(error)") }
    }()

    /// Number of rules, the generated ones included.
    public var ruleCount: Int { ruleNames.count }

    /// Refuses rules that can reach themselves without consuming a character (`a ::= a "x"`,
    /// `a ::= b a` with b nullable): top-down expansion would never end.
    func checkLeftRecursion() throws(GrammarError) {
        let ruleCount = ruleNames.count
        var nullable = [Bool](repeating: false, count: ruleCount)
        var changed = true
        while changed {
            changed = false
            for rule in 0..<ruleCount where !nullable[rule] {
                for start in alternativeStarts[rule] where alternativeIsNullable(from: Int(start), nullable) {
                    nullable[rule] = true
                    changed = true
                    break
                }
            }
        }
        // Edges rule → rules it can call before consuming anything.
        var leftCalls = [[Int32]](repeating: [], count: ruleCount)
        for rule in 0..<ruleCount {
            for start in alternativeStarts[rule] {
                var position = Int(start)
                while elements[position].kind == .reference {
                    leftCalls[rule].append(elements[position].value)
                    guard nullable[Int(elements[position].value)] else { break }
                    position += 1
                }
            }
        }
        // Depth-first search for a cycle (0 unvisited, 1 on the path, 2 done).
        var mark = [UInt8](repeating: 0, count: ruleCount)
        for start in 0..<ruleCount where mark[start] == 0 {
            var path: [(rule: Int, next: Int)] = [(start, 0)]
            mark[start] = 1
            while let top = path.last {
                if top.next < leftCalls[top.rule].count {
                    path[path.count - 1].next += 1
                    let callee = Int(leftCalls[top.rule][top.next])
                    if mark[callee] == 1 {
                        throw GrammarError("rule '\(Self.userRuleName(ruleNames[callee]))' is left-recursive (it can reach itself before matching any character); rewrite it with repetition, e.g. `list ::= item (\",\" item)*`")
                    }
                    if mark[callee] == 0 {
                        mark[callee] = 1
                        path.append((callee, 0))
                    }
                } else {
                    mark[top.rule] = 2
                    path.removeLast()
                }
            }
        }
    }

    /// Whether the alternative starting at `start` can match the empty string.
    private func alternativeIsNullable(from start: Int, _ nullable: [Bool]) -> Bool {
        var position = start
        while elements[position].kind != .end {
            guard elements[position].kind == .reference, nullable[Int(elements[position].value)] else { return false }
            position += 1
        }
        return true
    }

    /// The user's rule a generated rule comes from ("value-star12" → "value").
    static func userRuleName(_ name: String) -> String {
        let characters = Array(name)
        for marker in ["-group", "-rest", "-star"].map(Array.init) where characters.count >= marker.count {
            for start in 0...(characters.count - marker.count) where Array(characters[start..<start + marker.count]) == marker {
                return String(characters[..<start])
            }
        }
        return name
    }
}

/// One element of a rule alternative.
struct GrammarElement: Sendable, Equatable {
    enum Kind: UInt8, Sendable { case end, reference, characters }
    var kind: Kind
    /// `.reference`: the rule index; `.characters`: the index in `Grammar.classes`.
    var value: Int32
}

/// Helpers for writing GBNF text.
public enum GBNF {
    /// `text` as a GBNF string literal, quotes included (`"`, `\` and control characters escaped).
    public static func literal(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                result += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16, uppercase: true)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
