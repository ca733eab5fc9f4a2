import Foundation

/// The directory where pulled models live: `$ENTROPYINFER_HOME/models/<name>.gguf`.
///
/// Next to each model: `<name>.gguf.sha256` (the verification record), `.<name>.gguf.lock`
/// (the pull lock, an empty file) and, only while a pull runs, `.<name>.gguf.*.tmp` files.
public struct ModelStore: Sendable {
    /// `ENTROPYINFER_HOME`.
    public var home: URL
    public var catalog: ModelCatalog

    public init(home: URL, catalog: ModelCatalog = .builtIn) {
        self.home = home
        self.catalog = catalog
    }

    /// `ENTROPYINFER_HOME` when set and not empty, else `~/.cache/entropyinfer`.
    public static func homeDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let home = environment["ENTROPYINFER_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: (home as NSString).expandingTildeInPath)
        }
        return URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache/entropyinfer")
    }

    /// The store the process environment points to, with the built-in catalog.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ModelStore {
        ModelStore(home: homeDirectory(environment: environment))
    }

    public var modelsDirectory: URL { home.appendingPathComponent("models") }

    /// Where the catalog model `name` is (or will be) stored.
    public func modelPath(_ name: String) -> String {
        modelsDirectory.appendingPathComponent("\(name).gguf").path
    }

    func recordPath(_ name: String) -> String { modelPath(name) + ".sha256" }

    func lockPath(_ name: String) -> String {
        modelsDirectory.appendingPathComponent(".\(name).gguf.lock").path
    }

    /// A temporary file of a pull of `name`; every such file matches `isTemporaryFile(_:of:)`.
    func temporaryPath(_ name: String, purpose: String) -> String {
        modelsDirectory.appendingPathComponent(".\(name).gguf.\(purpose).tmp").path
    }

    func isTemporaryFile(_ filename: String, of name: String) -> Bool {
        filename.hasPrefix(".\(name).gguf.") && filename.hasSuffix(".tmp")
    }

    /// True when the model is stored and its record vouches for it (no hashing: one `stat`).
    public func isVerified(_ entry: CatalogEntry) -> Bool {
        guard let record = VerificationRecord.read(from: recordPath(entry.name)) else { return false }
        return record.stamp.byteCount == entry.byteCount && record.vouches(forFileAt: modelPath(entry.name), sha256: entry.sha256)
    }
}
