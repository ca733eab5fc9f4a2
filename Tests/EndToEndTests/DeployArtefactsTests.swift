import Foundation
import TestSupport
import Testing

/// The deploy artefacts, checked offline by `Tests/Deploy/*.py` (pytest): the Dockerfile with
/// hadolint, `deploy/kubernetes` with kubernetes-validate --strict and yamllint, the Compose file
/// with a strict Compose-spec parser, the systemd unit with `systemd-analyze verify` and
/// `security --offline`, and every config file (ConfigMap, presets) with the server's own
/// loader through the release binary. `make container-check` proves the image itself runs.
///
/// Needs the test virtualenv (`make test-venv`, which `make test` runs; the Makefile passes its
/// path as ENTROPYINFER_TEST_VENV) and the release binary.
@Suite("Deploy artefacts", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["ENTROPYINFER_TEST_VENV"] != nil))
struct DeployArtefactsTests {
    @Test func lintersValidatorsAndConsistencyChecksPass() throws {
        let root = TestModels.repositoryRoot
        let binary = root.appendingPathComponent(".build/release/entropyinfer")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("\(binary.path) is missing; run `swift build -c release --product entropyinfer`")
            return
        }
        let venv = ProcessInfo.processInfo.environment["ENTROPYINFER_TEST_VENV"]!
        let python = URL(fileURLWithPath: venv).appendingPathComponent("bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("no Python at \(python); run `make test-venv`")
            return
        }
        let suite = root.appendingPathComponent("Tests/Deploy")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-m", "pytest", "-q", "-p", "no:cacheprovider", suite.path]
        process.currentDirectoryURL = suite
        var environment = ProcessInfo.processInfo.environment
        environment["ENTROPYINFER_BIN"] = binary.path
        environment["PATH"] = URL(fileURLWithPath: venv).appendingPathComponent("bin").path + ":" + (environment["PATH"] ?? "")
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "deploy artefact checks failed:\n\(text.suffix(20000))")
        #expect(text.contains(" passed"), "pytest ran no test:\n\(text.suffix(2000))")
        print(text.split(separator: "\n").suffix(2).joined(separator: "\n"))
    }
}
