import Foundation

/// Where tests find models and fixtures.
///
/// Models are never committed: `make test` runs `entropyinfer pull` first, which stores them in
/// `$ENTROPYINFER_HOME/models/<name>.gguf` (default `~/.cache/entropyinfer`). A test that needs a
/// model and cannot find it fails with the command that fetches it.
public enum TestModels {
    public static let smolLM2 = "smollm2-135m-instruct"
    public static let qwen25Coder = "qwen2.5-coder-0.5b-instruct"

    public static var home: String {
        if let home = ProcessInfo.processInfo.environment["ENTROPYINFER_HOME"], !home.isEmpty { return home }
        return NSHomeDirectory() + "/.cache/entropyinfer"
    }

    /// Path of a pulled catalog model, or nil when it has not been pulled.
    public static func path(_ name: String) -> String? {
        let path = home + "/models/\(name).gguf"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// A message for tests that cannot find a model.
    public static func missingMessage(_ name: String) -> String {
        "model '\(name)' is not in \(home)/models; run `entropyinfer pull \(name)` (or `make test`, which pulls it)"
    }

    /// The repository root (the directory holding Package.swift).
    public static var repositoryRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    /// `Tests/Fixtures/<name>` in the repository.
    public static func fixture(_ name: String) -> URL {
        repositoryRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name)
    }

    /// The optional `../shared` directory of the development workplace. Tests use it only as an
    /// extra oracle and must pass without it.
    public static var sharedDirectory: URL? {
        let url = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
}
