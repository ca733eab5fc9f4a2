import Grammar
import JSON

/// The grammar that forces tool calls for `tool_choice` "required" or a named function: the
/// output is one or more calls in `ToolCallSyntax` (one only without parallel calls), each
/// `<tool_call>\n{"name": "<name>", "arguments": <JSON valid under the function's parameters>}\n</tool_call>`,
/// calls separated by one newline, nothing else. The parser reads every such output as calls.
enum ToolCallGrammar {
    /// nil when the choice does not force calls (`none`, `auto`). A parameters schema the
    /// grammar engine cannot enforce is a 400 naming the tool and the keyword.
    static func grammar(for request: ToolRequest) throws(APIError) -> Grammar? {
        let forced: [(index: Int, tool: FunctionTool)]
        switch request.choice {
        case .none, .auto:
            return nil
        case .required:
            forced = Array(request.tools.enumerated()).map { ($0.offset, $0.element) }
        case .function(let name):
            forced = request.tools.enumerated().filter { $0.element.name == name }.map { ($0.offset, $0.element) }
        }
        var rules: [String] = []
        var callRules: [String] = []
        for (index, tool) in forced {
            let prefix = "tool\(index)-"
            let parameters = "tools[\(index)].function.parameters"
            do {
                rules.append(try JSONSchemaGrammar.gbnf(for: tool.parameters, rootRule: prefix + "arguments", rulePrefix: prefix))
            } catch {
                throw .invalidValue(parameters, "Invalid value for '\(parameters)': \(error.message); tool_choice '\(request.choice.description)' constrains the arguments to this schema.")
            }
            let head = GBNF.literal("\(ToolCallSyntax.open)\n{\"name\": \"\(tool.name)\", \"arguments\": ")
            rules.append("\(prefix)call ::= \(head) \(prefix)arguments \(GBNF.literal("}\n\(ToolCallSyntax.close)"))")
            callRules.append("\(prefix)call")
        }
        let call = "call ::= " + callRules.joined(separator: " | ")
        let root = request.parallelCalls ? "root ::= call (\"\\n\" call)*" : "root ::= call"
        let text = ([root, call] + rules).joined(separator: "\n")
        do {
            return try Grammar(gbnf: text)
        } catch {
            throw .internalError("the tool-call grammar does not compile: \(error.message)")
        }
    }
}

extension ToolChoice: CustomStringConvertible {
    public var description: String {
        switch self {
        case .none: return "none"
        case .auto: return "auto"
        case .required: return "required"
        case .function(let name): return "function \(name)"
        }
    }
}
