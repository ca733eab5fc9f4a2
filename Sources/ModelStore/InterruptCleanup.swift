import Dispatch
import Foundation

/// Temporary files of running pulls, removed if the process is interrupted (SIGINT, SIGTERM,
/// SIGHUP) so Ctrl-C leaves nothing behind. A `kill -9` cannot be caught: the next pull of the
/// same model removes what it left, under the model's lock.
public enum InterruptCleanup {
    private final class Registry: @unchecked Sendable {
        let lock = NSLock()
        var paths: Set<String> = []
        var sources: [DispatchSourceSignal] = []
    }

    private static let registry = Registry()

    static func register(_ path: String) {
        registry.lock.withLock { _ = registry.paths.insert(path) }
    }

    static func unregister(_ path: String) {
        registry.lock.withLock { _ = registry.paths.remove(path) }
    }

    /// Turns SIGINT, SIGTERM and SIGHUP into: remove registered temporary files, say so on
    /// stderr, exit with 128 + signal number. For command-line tools; call once.
    public static func installSignalHandlers() {
        registry.lock.withLock {
            guard registry.sources.isEmpty else { return }
            // An inherited signal mask may block these; a blocked signal never reaches a source.
            var interrupts = sigset_t()
            sigemptyset(&interrupts)
            for signalNumber in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&interrupts, signalNumber) }
            pthread_sigmask(SIG_UNBLOCK, &interrupts, nil)
            for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    let paths = registry.lock.withLock { registry.paths }
                    for path in paths { unlink(path) }
                    FileHandle.standardError.write(Data("\ninterrupted; removed partial downloads\n".utf8))
                    exit(128 + signalNumber)
                }
                source.resume()
                registry.sources.append(source)
            }
        }
    }
}
