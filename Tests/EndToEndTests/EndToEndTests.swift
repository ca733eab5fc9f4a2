import Foundation
import TestSupport
import Testing

/// The end-to-end suite against the release binary: `Tests/EndToEnd/*.py` (pytest, the official
/// `openai` package, curl, schemathesis with openapi.yaml) start `entropyinfer serve --port 0
/// --model smollm2-135m-instruct` on free loopback ports and stop it with SIGTERM.
///
/// It needs the real engine, so it runs only with ENTROPYINFER_E2E=1 (`make test-e2e`); the
/// integrator turns it on in `make test` once `serve` has its engine.
@Suite("End to end", .serialized, .enabled(if: ProcessInfo.processInfo.environment["ENTROPYINFER_E2E"] == "1"))
struct EndToEndTests {
    @Test func pythonSuiteAgainstTheReleaseBinary() throws {
        let root = TestModels.repositoryRoot
        let binary = root.appendingPathComponent(".build/release/entropyinfer")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("\(binary.path) is missing; run `swift build -c release --product entropyinfer`")
            return
        }
        guard TestModels.path(TestModels.smolLM2) != nil else {
            Issue.record(Comment(rawValue: TestModels.missingMessage(TestModels.smolLM2)))
            return
        }
        let venv = ProcessInfo.processInfo.environment["ENTROPYINFER_TEST_VENV"]
            ?? root.appendingPathComponent(".build/e2e-venv").path
        let python = URL(fileURLWithPath: venv).appendingPathComponent("bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("no Python at \(python); run `make test-venv`")
            return
        }
        let suite = root.appendingPathComponent("Tests/EndToEnd")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-m", "pytest", "-q", "-p", "no:cacheprovider", suite.path]
        process.currentDirectoryURL = suite
        var environment = ProcessInfo.processInfo.environment
        environment["ENTROPYINFER_BIN"] = binary.path
        environment["ENTROPYINFER_E2E_MODEL"] = TestModels.smolLM2
        environment.removeValue(forKey: "ENTROPYINFER_URL")
        environment.removeValue(forKey: "ENTROPYINFER_E2E_FAKE")
        environment["PATH"] = URL(fileURLWithPath: venv).appendingPathComponent("bin").path + ":" + (environment["PATH"] ?? "")
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "end-to-end suite failed:\n\(text.suffix(20000))")
        print(text.split(separator: "\n").suffix(3).joined(separator: "\n"))
    }
}
