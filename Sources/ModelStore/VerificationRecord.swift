import Foundation

/// The size and modification time of a file: cheap to read, and changed by any rewrite.
struct FileStamp: Equatable {
    var byteCount: Int64
    var modificationSeconds: Int64
    var modificationNanoseconds: Int64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        byteCount = Int64(info.st_size)
        modificationSeconds = Int64(info.st_mtim.tv_sec)
        modificationNanoseconds = Int64(info.st_mtim.tv_nsec)
    }

    init(byteCount: Int64, modificationSeconds: Int64, modificationNanoseconds: Int64) {
        self.byteCount = byteCount
        self.modificationSeconds = modificationSeconds
        self.modificationNanoseconds = modificationNanoseconds
    }
}

/// The `<name>.gguf.sha256` sidecar: "this file, with this size and mtime, hashed to this".
///
/// A model whose sidecar matches its current size and mtime was verified before and is not
/// hashed again; any rewrite of the file changes its mtime and forces a new hash.
struct VerificationRecord: Equatable {
    var sha256: String
    var stamp: FileStamp

    /// The record text: one `key value` pair per line.
    var text: String {
        """
        # entropyinfer: this file was verified; delete this record (or use `pull --verify`) to hash it again
        sha256 \(sha256)
        size \(stamp.byteCount)
        mtime \(stamp.modificationSeconds).\(String(format: "%09lld", stamp.modificationNanoseconds))

        """
    }

    init(sha256: String, stamp: FileStamp) {
        self.sha256 = sha256
        self.stamp = stamp
    }

    init?(text: String) {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let sha256 = fields["sha256"], sha256.count == 64,
              let size = fields["size"].flatMap({ Int64($0) }),
              let mtime = fields["mtime"]?.split(separator: "."), mtime.count == 2,
              let seconds = Int64(mtime[0]), let nanoseconds = Int64(mtime[1]) else { return nil }
        self.init(sha256: sha256, stamp: FileStamp(byteCount: size, modificationSeconds: seconds,
                                                   modificationNanoseconds: nanoseconds))
    }

    static func read(from path: String) -> VerificationRecord? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return VerificationRecord(text: String(decoding: data, as: UTF8.self))
    }

    /// True when the record vouches for the file at `modelPath` having `sha256`.
    func vouches(forFileAt modelPath: String, sha256 expected: String) -> Bool {
        sha256 == expected && FileStamp(path: modelPath) == stamp
    }

    /// Writes the record atomically (temp file, fsync, rename) through `temporaryPath`.
    func write(to path: String, temporaryPath: String) throws {
        let file = try OutputFile(creating: temporaryPath)
        try file.write(Data(text.utf8))
        try file.synchronizeAndClose()
        try AtomicRename.replace(path, with: temporaryPath)
    }
}
