import Foundation
import GGUF
import TestSupport
import Testing
import Tokenization

// Real chat templates against the bytes HF transformers renders for them
// (Tests/Fixtures/chat_templates/cases.json, made by scripts/fixtures/make_chat_template_fixtures.py).

/// The fixture file, loaded once.
struct ChatTemplateFixtures: Sendable {
    struct Case: Sendable {
        let template: String
        let conversation: String
        let variant: String?
        let addGenerationPrompt: Bool
        let variables: [String: TemplateValue]
        let expected: String?
        /// ("raised" | "runtime", message) when transformers raised.
        let error: (kind: String, message: String)?

        var name: String {
            "\(template) / \(conversation)\(variant.map { " [\($0)]" } ?? "") add_generation_prompt=\(addGenerationPrompt)"
        }
    }

    let sources: [String: String]
    let specialTokens: [String: [String: TemplateValue]]
    let conversations: [String: (messages: [TemplateValue], tools: [TemplateValue]?)]
    let cases: [Case]
    /// transformers' `strftime_now` was pinned to this local time.
    let now: Date

    /// `ENTROPYINFER_CHAT_TEMPLATE_FIXTURES` points the tests at another fixture directory made by
    /// the same script (e.g. every template of llama.cpp's models/templates, see the script's --all).
    static let directory = ProcessInfo.processInfo.environment["ENTROPYINFER_CHAT_TEMPLATE_FIXTURES"]
        .map { URL(fileURLWithPath: $0) } ?? TestModels.fixture("chat_templates")
    static let isDefaultDirectory = ProcessInfo.processInfo.environment["ENTROPYINFER_CHAT_TEMPLATE_FIXTURES"] == nil

    static let shared: Result<ChatTemplateFixtures, ChatTemplateError> = {
        do { return .success(try load()) } catch let error as ChatTemplateError { return .failure(error) } catch {
            return .failure(ChatTemplateError("cannot read \(directory.path): \(error)"))
        }
    }()

    static func get() throws -> ChatTemplateFixtures { try shared.get() }

    private static func load() throws -> ChatTemplateFixtures {
        let text = try String(contentsOf: directory.appendingPathComponent("cases.json"), encoding: .utf8)
        let document = try TemplateValue(json: text)
        var sources: [String: String] = [:]
        var specialTokens: [String: [String: TemplateValue]] = [:]
        for template in document["templates"]?.arrayValue ?? [] {
            let name = template["name"]!.stringValue!
            sources[name] = try String(contentsOf: directory.appendingPathComponent(template["file"]!.stringValue!), encoding: .utf8)
            specialTokens[name] = template["special_tokens"]!.objectDictionary
        }
        var conversations: [String: (messages: [TemplateValue], tools: [TemplateValue]?)] = [:]
        for conversation in document["conversations"]?.arrayValue ?? [] {
            conversations[conversation["name"]!.stringValue!] = (conversation["messages"]!.arrayValue!, conversation["tools"]!.arrayValue)
        }
        var cases: [Case] = []
        for c in document["cases"]?.arrayValue ?? [] {
            var error: (kind: String, message: String)? = nil
            if let e = c["error"] { error = (e["kind"]!.stringValue!, e["message"]!.stringValue!) }
            let variables: [String: TemplateValue] = c["variables"]?.objectDictionary ?? [:]
            cases.append(Case(template: c["template"]!.stringValue!, conversation: c["conversation"]!.stringValue!,
                              variant: c["variant"]?.stringValue, addGenerationPrompt: c["add_generation_prompt"] == .bool(true),
                              variables: variables, expected: c["expected"]?.stringValue, error: error))
        }
        // "2024-07-26T10:11:12", a naive local time.
        let parts = document["now"]!.stringValue!.split(whereSeparator: { "-T:".contains($0) }).map { Int($0)! }
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4], second: parts[5])
        return ChatTemplateFixtures(sources: sources, specialTokens: specialTokens, conversations: conversations, cases: cases,
                                    now: Calendar.current.date(from: components)!)
    }

    /// Renders one case with the interpreter; returns the text or the error.
    func render(_ c: Case, template: ChatTemplate) -> Result<String, ChatTemplateError> {
        let (messages, tools) = conversations[c.conversation]!
        let variables = specialTokens[c.template]!.merging(c.variables) { $1 }
        do {
            return .success(try template.render(messages: messages, tools: tools, addGenerationPrompt: c.addGenerationPrompt,
                                                variables: variables, now: now))
        } catch {
            return .failure(error)
        }
    }
}

@Suite("Chat templates match transformers")
struct ChatTemplateFixtureTests {
    static let templateNames: [String] = {
        guard ChatTemplateFixtures.isDefaultDirectory else {
            return ((try? ChatTemplateFixtures.get())?.sources.keys).map { $0.sorted() } ?? []
        }
        return defaultTemplateNames
    }()

    static let defaultTemplateNames = [
        "smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct", "meta-llama-Llama-3.1-8B-Instruct",
        "meta-llama-Llama-3.2-3B-Instruct", "mistralai-Mistral-Nemo-Instruct-2407", "google-gemma-2-2b-it",
        "microsoft-Phi-3.5-mini-instruct", "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", "Qwen-Qwen3-0.6B",
        "HuggingFaceTB-SmolLM3-3B", "openai-gpt-oss-120b", "meetkai-functionary-medium-v3.1", "ByteDance-Seed-OSS",
        "llama-cpp-deepseek-r1", "deepseek-ai-DeepSeek-V3.2",
    ]

    @Test func fixtureCoversEveryListedTemplate() throws {
        let fixtures = try ChatTemplateFixtures.get()
        guard ChatTemplateFixtures.isDefaultDirectory else { return }
        #expect(Set(fixtures.sources.keys) == Set(Self.defaultTemplateNames))
        #expect(fixtures.cases.count >= 400)
    }

    @Test(arguments: templateNames)
    func rendersByteForByte(templateName: String) throws {
        let fixtures = try ChatTemplateFixtures.get()
        let template = try ChatTemplate(source: try #require(fixtures.sources[templateName]))
        let cases = fixtures.cases.filter { $0.template == templateName }
        #expect(cases.count >= 20)
        var failures: [String] = []
        for c in cases {
            let result = fixtures.render(c, template: template)
            switch (result, c.expected, c.error) {
            case (.success(let text), let expected?, _):
                if !text.utf8.elementsEqual(expected.utf8) { failures.append("\(c.name):\n" + readableDiff(expected: expected, actual: text)) }
            case (.failure(let error), _, let expectedError?):
                if expectedError.kind == "raised" && (error.kind != .raised || error.message != expectedError.message) {
                    failures.append("\(c.name): expected raise_exception(\"\(expectedError.message)\"), got \(error)")
                } else if expectedError.kind == "runtime" && error.kind != .runtime {
                    failures.append("\(c.name): expected a runtime error like transformers' \"\(expectedError.message)\", got \(error)")
                }
            case (.success(let text), nil, let expectedError?):
                failures.append("\(c.name): transformers raised \"\(expectedError.message)\", we rendered:\n\(text)")
            case (.failure(let error), _, nil):
                failures.append("\(c.name): transformers rendered, we threw \(error)")
            default:
                failures.append("\(c.name): malformed fixture")
            }
        }
        let report = "\(failures.count) of \(cases.count) cases differ:\n\n" + failures.joined(separator: "\n\n")
        #expect(failures.isEmpty, Comment(rawValue: report))
    }

    @Test func referencedVariablesTellWhichTemplatesRenderTools() throws {
        let fixtures = try ChatTemplateFixtures.get()
        func variables(_ name: String) throws -> Set<String> { try ChatTemplate(source: fixtures.sources[name]!).referencedVariables }
        #expect(try variables("qwen2.5-coder-0.5b-instruct").isSuperset(of: ["tools", "messages", "add_generation_prompt"]))
        #expect(try !variables("smollm2-135m-instruct").contains("tools"))
        #expect(try variables("Qwen-Qwen3-0.6B").contains("enable_thinking"))
        #expect(try variables("meta-llama-Llama-3.1-8B-Instruct").isSuperset(of: ["tools", "custom_tools", "date_string", "bos_token"]))
        #expect(try variables("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use").contains("json_spec"))  // inside a macro
    }

    /// The GGUF files carry exactly the templates the fixtures were made from.
    @Test(arguments: [TestModels.smolLM2, TestModels.qwen25Coder])
    func ggufTemplateEqualsFixtureCopy(model: String) throws {
        guard let path = TestModels.path(model) else {
            Issue.record(Comment(rawValue: TestModels.missingMessage(model)))
            return
        }
        let file = try GGUFFile(path: path)
        let fromGGUF = try #require(try ChatTemplate(gguf: file))
        let fixtures = try ChatTemplateFixtures.get()
        #expect(fromGGUF.source == fixtures.sources[model])
    }

    /// A 20-message conversation renders in well under a millisecond in release builds.
    @Test func renderTimeOfTwentyMessages() throws {
        let fixtures = try ChatTemplateFixtures.get()
        let conversation = try #require(fixtures.conversations["long_20"])
        #expect(conversation.messages.count == 20)
        var report: [String] = []
        for name in ["qwen2.5-coder-0.5b-instruct", "meta-llama-Llama-3.1-8B-Instruct", "Qwen-Qwen3-0.6B"] {
            let template = try ChatTemplate(source: fixtures.sources[name]!)
            let variables = fixtures.specialTokens[name]!
            let iterations = 200
            var best = Double.infinity
            var total = 0.0
            for _ in 0..<iterations {
                let start = DispatchTime.now().uptimeNanoseconds
                let text = try template.render(messages: conversation.messages, addGenerationPrompt: true, variables: variables)
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3
                #expect(!text.isEmpty)
                best = min(best, elapsed)
                total += elapsed
            }
            report.append("\(name): best \(String(format: "%.1f", best)) µs, mean \(String(format: "%.1f", total / Double(iterations))) µs")
        }
        // Parsing happens once per model load; the largest fixture template is gpt-oss's (16 KB).
        let largest = try #require(fixtures.sources["openai-gpt-oss-120b"])
        var bestParse = Double.infinity
        for _ in 0..<20 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try ChatTemplate(source: largest)
            bestParse = min(bestParse, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3)
        }
        report.append("parse openai-gpt-oss-120b (\(largest.utf8.count) bytes): best \(String(format: "%.1f", bestParse)) µs")
        print("chat template render, 20 messages:\n  " + report.joined(separator: "\n  "))
    }
}

/// The first differing line of two texts, with invisible characters made visible.
func readableDiff(expected: String, actual: String) -> String {
    let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var line = 0
    while line < min(expectedLines.count, actualLines.count) && expectedLines[line].utf8.elementsEqual(actualLines[line].utf8) {
        line += 1
    }
    func show(_ lines: [Substring], _ index: Int) -> String {
        guard index < lines.count else { return "<end of text>" }
        return String(reflecting: String(lines[index]))
    }
    var out = "  first difference at line \(line + 1) (expected \(expectedLines.count) lines, got \(actualLines.count))\n"
    if line > 0 { out += "  context : \(show(expectedLines, line - 1))\n" }
    out += "  expected: \(show(expectedLines, line))\n"
    out += "  actual  : \(show(actualLines, line))"
    if line < expectedLines.count && line < actualLines.count {
        // Code points from the first difference, for what escaping cannot show (combining marks…).
        let e = Array(expectedLines[line].unicodeScalars)
        let a = Array(actualLines[line].unicodeScalars)
        var column = 0
        while column < min(e.count, a.count) && e[column] == a[column] { column += 1 }
        func codePoints(_ s: [Unicode.Scalar]) -> String {
            s[column..<min(s.count, column + 6)].map { "U+" + String($0.value, radix: 16, uppercase: true) }.joined(separator: " ")
        }
        out += "\n  column \(column + 1): expected \(codePoints(e)) …, actual \(codePoints(a)) …"
    }
    return out
}

extension TemplateValue {
    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var arrayValue: [TemplateValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    var objectDictionary: [String: TemplateValue]? {
        guard case .object(let pairs) = self else { return nil }
        return Dictionary(pairs, uniquingKeysWith: { $1 })
    }
}
