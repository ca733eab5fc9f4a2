import Foundation

/// The real text of the evaluation: the regular files (not symlinks) of Debian's
/// `/usr/share/common-licenses`, sorted by name, joined by two newlines (about 237 KB, 55K
/// tokens). Every Debian and Ubuntu system has the same files, so runs on different machines
/// read the same text.
public enum LicenseCorpus {
    public static let defaultDirectory = "/usr/share/common-licenses"

    /// Names of the regular files of `directory`, sorted by byte order of the name.
    public static func fileNames(in directory: String) throws(EvaluationError) -> [String] {
        let manager = FileManager.default
        let names: [String]
        do { names = try manager.contentsOfDirectory(atPath: directory) } catch {
            throw .corpusUnavailable(path: directory, reason: "cannot list the directory")
        }
        let regular = names.filter { name in
            guard let attributes = try? manager.attributesOfItem(atPath: directory + "/" + name) else { return false }
            return attributes[.type] as? FileAttributeType == .typeRegular
        }
        return regular.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The joined text.
    public static func load(directory: String = defaultDirectory) throws(EvaluationError) -> String {
        let names = try fileNames(in: directory)
        guard !names.isEmpty else { throw .corpusUnavailable(path: directory, reason: "it has no regular files") }
        var parts: [String] = []
        for name in names {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .corpusUnavailable(path: path, reason: "cannot read the file")
            }
            parts.append(String(decoding: data, as: UTF8.self))
        }
        return parts.joined(separator: "\n\n")
    }
}
