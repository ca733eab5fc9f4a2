import Foundation

/// Publishing a finished file: `rename(2)` over the destination, then `fsync` of the directory
/// so the new name survives a crash. Readers see the old file or the new one, never a mix.
enum AtomicRename {
    static func replace(_ destination: String, with source: String) throws {
        guard rename(source, destination) == 0 else {
            throw ModelStoreError.io(path: destination, operation: "rename \(source) to", errno: errno)
        }
        let directory = (destination as NSString).deletingLastPathComponent
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
