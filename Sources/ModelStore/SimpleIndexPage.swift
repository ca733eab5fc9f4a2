import Foundation

/// One file a project page of a package index lists.
public struct IndexFile: Sendable, Equatable {
    public var filename: String
    /// Absolute download URL (relative links are resolved against the page).
    public var url: URL
    /// Lower-case hex sha256 when the index gives one.
    public var sha256: String?
    public var byteCount: Int64?
    public var yanked: Bool

    public init(filename: String, url: URL, sha256: String?, byteCount: Int64?, yanked: Bool) {
        self.filename = filename
        self.url = url
        self.sha256 = sha256
        self.byteCount = byteCount
        self.yanked = yanked
    }
}

/// Parsers for a project page of the Simple Repository API: the JSON form (PEP 691) that
/// PyPI serves, and the HTML form (PEP 503) that many mirrors still serve only.
public enum SimpleIndexPage {
    /// What we ask for, JSON first, as pip does.
    public static let acceptHeader =
        "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"

    /// Picks the parser from the response's media type; an unknown type tries JSON, then HTML.
    public static func parse(_ data: Data, contentType: String?, pageURL: URL) throws -> [IndexFile] {
        let type = contentType ?? ""
        if type.contains("json") { return try parseJSON(data, pageURL: pageURL) }
        if type.contains("html") { return try parseHTML(data, pageURL: pageURL) }
        if let files = try? parseJSON(data, pageURL: pageURL) { return files }
        return try parseHTML(data, pageURL: pageURL)
    }

    private struct JSONPage: Decodable {
        var files: [JSONFile]
    }

    private struct JSONFile: Decodable {
        var filename: String
        var url: String
        var hashes: [String: String]
        var size: Int64?
        var yanked: Bool

        enum CodingKeys: String, CodingKey { case filename, url, hashes, size, yanked }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            filename = try container.decode(String.self, forKey: .filename)
            url = try container.decode(String.self, forKey: .url)
            hashes = try container.decodeIfPresent([String: String].self, forKey: .hashes) ?? [:]
            size = try container.decodeIfPresent(Int64.self, forKey: .size)
            // PEP 691: `yanked` is false, true, or a string giving the reason.
            if let flag = try? container.decodeIfPresent(Bool.self, forKey: .yanked) {
                yanked = flag
            } else {
                yanked = (try? container.decodeIfPresent(String.self, forKey: .yanked)) != nil
            }
        }
    }

    public static func parseJSON(_ data: Data, pageURL: URL) throws -> [IndexFile] {
        let page: JSONPage
        do {
            page = try JSONDecoder().decode(JSONPage.self, from: data)
        } catch {
            throw ModelStoreError.badIndexPage(url: pageURL.redactedString, message: "not a PEP 691 JSON page (\(error))")
        }
        return try page.files.map { file in
            guard let url = URL(string: file.url, relativeTo: pageURL)?.absoluteURL else {
                throw ModelStoreError.badIndexPage(url: pageURL.redactedString, message: "bad file URL '\(file.url)'")
            }
            return IndexFile(filename: file.filename, url: url, sha256: file.hashes["sha256"]?.lowercased(),
                             byteCount: file.size, yanked: file.yanked)
        }
    }

    /// PEP 503: one `<a href="URL#sha256=HEX">filename</a>` per file; `data-yanked` marks yanked files.
    public static func parseHTML(_ data: Data, pageURL: URL) throws -> [IndexFile] {
        let html = String(decoding: data, as: UTF8.self)
        let anchor = try NSRegularExpression(pattern: "<a\\s([^>]*)>([^<]*)</a>", options: [.caseInsensitive])
        let href = try NSRegularExpression(pattern: "href\\s*=\\s*(\"([^\"]*)\"|'([^']*)')", options: [.caseInsensitive])
        let whole = NSRange(html.startIndex..., in: html)
        var files: [IndexFile] = []
        for match in anchor.matches(in: html, range: whole) {
            guard let attributesRange = Range(match.range(at: 1), in: html),
                  let textRange = Range(match.range(at: 2), in: html) else { continue }
            let attributes = String(html[attributesRange])
            let attributeRange = NSRange(attributes.startIndex..., in: attributes)
            guard let hrefMatch = href.firstMatch(in: attributes, range: attributeRange) else { continue }
            let valueGroup = hrefMatch.range(at: 2).location != NSNotFound ? 2 : 3
            guard let valueRange = Range(hrefMatch.range(at: valueGroup), in: attributes) else { continue }
            let link = unescape(String(attributes[valueRange]))
            guard let url = URL(string: link, relativeTo: pageURL)?.absoluteURL else { continue }
            var sha256: String?
            if let fragment = url.fragment, fragment.lowercased().hasPrefix("sha256=") {
                sha256 = String(fragment.dropFirst("sha256=".count)).lowercased()
            }
            var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
            components?.fragment = nil
            let filename = unescape(String(html[textRange])).trimmingCharacters(in: .whitespacesAndNewlines)
            files.append(IndexFile(filename: filename, url: components?.url ?? url, sha256: sha256, byteCount: nil,
                                   yanked: attributes.lowercased().contains("data-yanked")))
        }
        guard !files.isEmpty || html.lowercased().contains("<html") || html.lowercased().contains("<!doctype") else {
            throw ModelStoreError.badIndexPage(url: pageURL.redactedString, message: "neither PEP 691 JSON nor PEP 503 HTML")
        }
        return files
    }

    private static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
