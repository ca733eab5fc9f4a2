import Foundation

/// A model named on the command line or in a request, turned into a file to open.
public struct ResolvedModel: Sendable, Equatable {
    /// Absolute path of the GGUF file.
    public var path: String
    /// The catalog name, or the file name without `.gguf` for a local file.
    public var name: String
    /// The catalog entry when the model was named by catalog name.
    public var catalogEntry: CatalogEntry?

    public init(path: String, name: String, catalogEntry: CatalogEntry?) {
        self.path = path
        self.name = name
        self.catalogEntry = catalogEntry
    }
}

extension ModelStore {
    /// Resolves a catalog name or a path to a local `.gguf` file.
    ///
    /// - An argument that looks like a path (contains `/`, starts with `~` or ends in `.gguf`)
    ///   is a file; it must exist.
    /// - A catalog name resolves to its place in the store; if it is not there, the error says
    ///   which `entropyinfer pull` fetches it.
    /// - Anything else that names an existing file is that file.
    /// - Otherwise the error lists the catalog names.
    public func resolve(_ nameOrPath: String) throws -> ResolvedModel {
        let argument = nameOrPath.trimmingCharacters(in: .whitespaces)
        let looksLikePath = argument.contains("/") || argument.hasPrefix("~") || argument.lowercased().hasSuffix(".gguf")
        if !looksLikePath, let entry = catalog.entry(named: argument) {
            let path = modelPath(entry.name)
            guard FileStamp(path: path) != nil else {
                throw ModelStoreError.modelNotPulled(name: entry.name, expectedPath: path)
            }
            return ResolvedModel(path: path, name: entry.name, catalogEntry: entry)
        }
        let path = URL(fileURLWithPath: (argument as NSString).expandingTildeInPath).standardizedFileURL.path
        if FileStamp(path: path) != nil {
            let filename = (path as NSString).lastPathComponent
            let name = filename.lowercased().hasSuffix(".gguf") ? String(filename.dropLast(5)) : filename
            return ResolvedModel(path: path, name: name, catalogEntry: nil)
        }
        if looksLikePath { throw ModelStoreError.fileNotFound(path: path) }
        throw ModelStoreError.unknownModel(name: argument, catalogNames: catalog.names)
    }
}

/// Resolves a model name or path against the store `ENTROPYINFER_HOME` points to.
/// Everywhere a model is named (`--model`, request bodies), this is the function to call.
public func resolveModel(_ nameOrPath: String) throws -> ResolvedModel {
    try ModelStore.fromEnvironment().resolve(nameOrPath)
}
