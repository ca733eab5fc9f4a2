import Foundation

/// A file being written: buffered `write(2)` calls with errno-accurate errors (so a full disk
/// says so), `fsync` before it is published. Closes itself when released.
final class OutputFile {
    let path: String
    private var descriptor: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var bufferedCount = 0
    /// Bytes handed to `write` so far (buffered or not).
    private(set) var writtenByteCount: Int64 = 0

    /// Creates (or truncates) `path` with mode 0644.
    init(creating path: String, bufferByteCount: Int = 1 << 20) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ModelStoreError.io(path: path, operation: "create", errno: errno) }
        buffer = .allocate(byteCount: bufferByteCount, alignment: 64)
    }

    deinit {
        if descriptor >= 0 { Foundation.close(descriptor) }
        buffer.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !bytes.isEmpty else { return }
        writtenByteCount += Int64(bytes.count)
        if bufferedCount + bytes.count > buffer.count { try flush() }
        if bytes.count >= buffer.count { return try writeFully(bytes) }
        (buffer.baseAddress! + bufferedCount).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        bufferedCount += bytes.count
    }

    func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }

    func flush() throws {
        guard bufferedCount > 0 else { return }
        let pending = UnsafeRawBufferPointer(rebasing: buffer[..<bufferedCount])
        bufferedCount = 0
        try writeFully(pending)
    }

    /// Flushes, `fsync`s and closes: after this returns the bytes are on disk.
    func synchronizeAndClose() throws {
        try flush()
        guard fsync(descriptor) == 0 else { throw ModelStoreError.io(path: path, operation: "fsync", errno: errno) }
        try close()
    }

    /// Flushes and closes without `fsync` (for scratch files read back at once).
    func close() throws {
        try flush()
        let result = Foundation.close(descriptor)
        descriptor = -1
        // close(2) reports delayed write errors (NFS, quota), so a failure here is a failed write.
        guard result == 0 else { throw ModelStoreError.io(path: path, operation: "close", errno: errno) }
    }

    private func writeFully(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw ModelStoreError.io(path: path, operation: "write", errno: errno)
            }
            offset += written
        }
    }
}
