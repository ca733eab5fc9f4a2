#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file. Weights stay in the page cache and are shared
/// between processes; nothing is copied at load.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    /// Size of the file in bytes.
    public let byteCount: Int

    public init(path: String) throws(GGUFError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw errno == ENOENT ? .fileNotFound(path: path) : .io(path: path, message: reason)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw .io(path: path, message: String(cString: strerror(errno)))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw .io(path: path, message: "not a regular file")
        }
        byteCount = Int(status.st_size)
        guard byteCount > 0 else { throw .truncated(path: path, needed: 4, available: 0, context: "file is empty") }
        guard let mapped = mmap(nil, byteCount, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            throw .io(path: path, message: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(mapped)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), byteCount)
    }

    /// Drops the pages of a range from this process (they stay in the page cache and are read
    /// again on access): for tensors repacked into private memory, so resident memory does not
    /// count the model twice.
    public func dontNeed(offset: Int, count: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (offset + page - 1) / page * page
        let end = (offset + count) / page * page
        guard end > start else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, Int32(MADV_DONTNEED))
    }

    /// Asks the kernel to read the given range ahead (weights about to be used).
    public func willNeed(offset: Int, count: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        madvise(UnsafeMutableRawPointer(mutating: base + start), min(count + (offset - start), byteCount - start), Int32(MADV_WILLNEED))
    }
}
