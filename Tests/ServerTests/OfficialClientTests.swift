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
        let service = FakeGenerationService(contextLength: 512) { request in
            // Long answers when asked to ignore EOS, so disconnect and queue tests have something to cancel.
            request.ignoreEOS ? FakeScript(reply: String(repeating: "long ", count: 400), tokenDelay: 0.005) : FakeScript()
        }
        var transport = LiveServer.transportOptions
        transport.maxBodyBytes = 16 * 1024 * 1024
        let live = try LiveServer(options: options, service: service, transport: transport)
        let venv = ProcessInfo.processInfo.environment["ENTROPYINFER_TEST_VENV"]!
        let python = URL(fileURLWithPath: venv).appendingPathComponent("bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("no Python at \(python); run `make test-venv`")
            return
        }
        let suite = TestModels.repositoryRoot.appendingPathComponent("Tests/EndToEnd")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", suite.path]
        process.currentDirectoryURL = suite
        var environment = ProcessInfo.processInfo.environment
        environment["ENTROPYINFER_URL"] = live.base
        environment["ENTROPYINFER_E2E_FAKE"] = "1"
        environment["ENTROPYINFER_E2E_API_KEY"] = Self.apiKey
        environment["PATH"] = URL(fileURLWithPath: venv).appendingPathComponent("bin").path + ":" + (environment["PATH"] ?? "")
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "pytest failed:\n\(text.suffix(20000))")
        print(text.split(separator: "\n").suffix(3).joined(separator: "\n"))
    }
}
