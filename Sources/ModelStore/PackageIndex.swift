import Foundation

/// A Python package index reached through the Simple Repository API: the same protocol pip
/// uses, so any PyPI mirror works. Only project pages and files are fetched; the per-version
/// JSON API (`/pypi/<project>/<version>/json`) is not used.
public struct PackageIndex: Sendable {
    public static let defaultURL = URL(string: "https://pypi.org/simple")!

    /// Base URL of the index, e.g. `https://pypi.org/simple` (no trailing slash).
    public var baseURL: URL
    public var transport: any HTTPTransport

    public init(baseURL: URL, transport: any HTTPTransport) {
        var text = baseURL.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        self.baseURL = URL(string: text) ?? baseURL
        self.transport = transport
    }

    /// The index URL and where it came from: `ENTROPYINFER_INDEX_URL` wins over `PIP_INDEX_URL`
    /// (so entropyinfer can use a mirror without changing pip), which wins over PyPI.
    public static func baseURL(environment: [String: String]) throws -> (url: URL, source: String) {
        for variable in ["ENTROPYINFER_INDEX_URL", "PIP_INDEX_URL"] {
            guard let value = environment[variable]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { continue }
            guard let url = URL(string: value), let scheme = url.scheme?.lowercased(),
                  scheme == "https" || scheme == "http", url.host != nil else {
                throw ModelStoreError.badIndexPage(url: value, message: "\(variable) must be an http(s) URL such as "
                                                   + PackageIndex.defaultURL.absoluteString)
            }
            return (url, variable)
        }
        return (defaultURL, "default")
    }

    /// PEP 503 name normalisation: lower case, runs of `-`, `_` and `.` become one `-`.
    public static func normalizedProjectName(_ name: String) -> String {
        var result = ""
        var pendingSeparator = false
        for character in name.lowercased() {
            if character == "-" || character == "_" || character == "." {
                pendingSeparator = true
                continue
            }
            if pendingSeparator && !result.isEmpty { result.append("-") }
            pendingSeparator = false
            result.append(character)
        }
        return result
    }

    public func projectPageURL(_ project: String) -> URL {
        URL(string: baseURL.absoluteString + "/" + PackageIndex.normalizedProjectName(project) + "/")!
    }

    /// Every file the project's page lists.
    public func files(of project: String) throws -> [IndexFile] {
        let pageURL = projectPageURL(project)
        let (head, body) = try transport.fetch(pageURL, accept: SimpleIndexPage.acceptHeader)
        return try SimpleIndexPage.parse(body, contentType: head.contentType, pageURL: head.url)
    }

    /// The wheel of exactly `part.version` (a pure-Python `none-any` wheel preferred).
    public func wheel(for part: WheelPart) throws -> IndexFile {
        let files = try files(of: part.project)
        let project = PackageIndex.normalizedProjectName(part.project)
        let matching = files.filter { file in
            guard let tags = WheelFilename(file.filename) else { return false }
            return PackageIndex.normalizedProjectName(tags.distribution) == project && tags.version == part.version
        }
        if let wheel = matching.first(where: { $0.filename.hasSuffix("-none-any.whl") }) ?? matching.first {
            return wheel
        }
        throw ModelStoreError.wheelNotFound(project: part.project, version: part.version,
                                            indexURL: baseURL.redactedString, available: files.map(\.filename))
    }
}

/// The parts of a wheel file name (PEP 427): `{distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl`.
struct WheelFilename {
    var distribution: String
    var version: String

    init?(_ filename: String) {
        guard filename.hasSuffix(".whl") else { return nil }
        let fields = filename.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 5 || fields.count == 6 else { return nil }
        distribution = String(fields[0])
        version = String(fields[1])
    }
}
