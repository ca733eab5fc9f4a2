import Foundation

/// An exclusive `flock(2)` on a lock file, held until `unlock()` or release.
///
/// The kernel drops the lock when the process dies, so a killed pull never leaves the store
/// locked. The lock file itself stays (an empty file): deleting it while another process waits
/// on it would let two processes hold "the" lock at once.
final class FileLock {
    let path: String
    private var descriptor: Int32

    /// Opens (creating) the lock file and takes the lock; calls `waiting` once if another
    /// process holds it, then blocks until it is free.
    init(path: String, waiting: () -> Void) throws {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ModelStoreError.io(path: path, operation: "create the lock file", errno: errno) }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return }
        guard errno == EWOULDBLOCK else {
            let error = errno
            close(descriptor)
            throw ModelStoreError.io(path: path, operation: "lock", errno: error)
        }
        waiting()
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let error = errno
                close(descriptor)
                throw ModelStoreError.io(path: path, operation: "lock", errno: error)
            }
        }
    }

    func unlock() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { unlock() }
}
