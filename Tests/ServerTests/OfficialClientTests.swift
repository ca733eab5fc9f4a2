import Foundation
import Server
import TestSupport
import Testing

/// Runs the end-to-end Python suite (official `openai` client, curl, raw HTTP, schemathesis) against
/// the real libmicrohttpd server in this process with the fake engine, so the wire format is checked
/// by OpenAI's own client long before a model is involved. Tests that need the real model are
/// skipped by the suite itself (ENTROPYINFER_E2E_FAKE=1).
///
/// Needs the test virtualenv (`make test-venv`, which `make test` runs); the Makefile passes its
/// path as ENTROPYINFER_TEST_VENV.
@Suite("Official client against the fake engine", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["ENTROPYINFER_TEST_VENV"] != nil))
struct OfficialClientTests {
    static let apiKey = "sk-e2e-test"

    @Test func pythonEndToEndSuitePasses() throws {
        var options = Harness.defaultOptions
        options.apiKeys = [Self.apiKey]
        options.pollInterval = 0.05
        options.requestLog = false
        let tokenizer = FakeTokenizer(addBOS: false)
        let service = FakeGenerationService(contextLength: 2048) { request in
            // Long answers when asked to ignore EOS (10,000 tokens, 50 s), so the disconnect test's
            // session can only leave early by being cancelled; a tool call when the request offers tools.
            request.ignoreEOS ? FakeScript(reply: String(repeating: "long ", count: 2000), tokenDelay: 0.005)
                : FakeScript.toolCaller(request, tokenizer: tokenizer, arguments: #"{"city": "Paris", "days": 2}"#)
        }
        var transport = LiveServer.transportOptions
        transport.maxBodyBytes = 16 * 1024 * 1024
        let live = try LiveServer(options: options, service: service, transport: transport)
        let result = try PytestSuite.run(directory: "EndToEnd", extraArguments: ["-x"], environment: [
            "ENTROPYINFER_URL": live.base,
            "ENTROPYINFER_E2E_FAKE": "1",
            "ENTROPYINFER_E2E_API_KEY": Self.apiKey,
        ])
        #expect(result.status == 0, "pytest failed:\n\(result.failureReport())")
        print(result.tail(3))
    }
}
