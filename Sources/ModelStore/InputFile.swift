import Foundation

/// A file opened for positional reads (`pread`); closes itself when released.
final class InputFile {
    let path: String
    private let descriptor: Int32
    /// Size in bytes when opened.
    let byteCount: Int64

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ModelStoreError.io(path: path, operation: "open", errno: errno) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let error = errno
            close(descriptor)
            throw ModelStoreError.io(path: path, operation: "stat", errno: error)
        }
        byteCount = Int64(info.st_size)
    }

    deinit { close(descriptor) }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (0 at end of file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        while true {
            let readCount = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if readCount >= 0 { return readCount }
            if errno == EINTR { continue }
            throw ModelStoreError.io(path: path, operation: "read", errno: errno)
        }
    }

    /// Reads exactly `count` bytes at `offset`, or throws when the file is shorter.
    func readExactly(_ count: Int, at offset: Int64) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while filled < count {
                let readCount = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]),
                                         at: offset + Int64(filled))
                if readCount == 0 { break }
                filled += readCount
            }
        }
        guard filled == count else {
            throw ModelStoreError.badArchive(path: path, message: "file ends at byte \(offset + Int64(filled)), "
                                             + "\(count) bytes were expected at offset \(offset)")
        }
        return bytes
    }

    /// Streams the whole file to `body` in chunks of `chunkByteCount`.
    func forEachChunk(chunkByteCount: Int = 1 << 22, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkByteCount, alignment: 64)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let readCount = try read(into: buffer, at: offset)
            if readCount == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[..<readCount]))
            offset += Int64(readCount)
        }
    }
}

extension SHA256 {
    /// Hashes a file by streaming it (4 MiB at a time); `progress` receives the bytes hashed so far.
    public static func hash(fileAt path: String, progress: (Int64) -> Void = { _ in }) throws -> SHA256Digest {
        let file = try InputFile(path: path)
        var hasher = SHA256()
        var hashedByteCount: Int64 = 0
        try file.forEachChunk { chunk in
            hasher.update(chunk)
            hashedByteCount += Int64(chunk.count)
            progress(hashedByteCount)
        }
        return hasher.finalize()
    }
}
