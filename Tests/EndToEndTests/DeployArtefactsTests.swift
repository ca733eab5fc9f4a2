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
        let result = try PytestSuite.run(directory: "Deploy", environment: ["ENTROPYINFER_BIN": binary.path])
        #expect(result.status == 0, "deploy artefact checks failed:\n\(result.failureReport())")
        #expect(result.output.contains(" passed"), "pytest ran no test:\n\(result.output.suffix(2000))")
        print(result.tail(2))
    }
}
