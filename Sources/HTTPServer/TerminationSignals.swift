import Foundation

/// Why `serve` stops.
public enum StopReason: Sendable, Equatable {
    case signal(Int32)
    /// `TerminationSignals.requestStop` (e.g. the model failed to load).
    case requested(exitCode: Int32)
}

/// SIGTERM/SIGINT delivery to a waiting thread. The C handler only stores the signal number and
/// posts a semaphore (both async-signal-safe); `wait()` returns on the waiting thread.
public enum TerminationSignals {
    nonisolated(unsafe) private static let semaphore: UnsafeMutablePointer<sem_t> = {
        let pointer = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        sem_init(pointer, 0, 0)
        return pointer
    }()
    nonisolated(unsafe) private static var lastSignal: Int32 = 0
    nonisolated(unsafe) private static var requestedExitCode: Int32 = -1
    private static let lock = NSLock()

    private static let handler: @convention(c) (Int32) -> Void = { number in
        TerminationSignals.lastSignal = number
        sem_post(TerminationSignals.semaphore)
    }

    /// Installs the handlers for SIGTERM and SIGINT (call once, early, before other threads
    /// start). It also unblocks both signals: a supervisor (a CI runner, a process manager) may
    /// start us with them blocked in the inherited signal mask, and then a handler never runs and
    /// `serve` would ignore SIGTERM until it is killed.
    public static func install() {
        _ = semaphore
        var termination = sigset_t()
        sigemptyset(&termination)
        sigaddset(&termination, SIGTERM)
        sigaddset(&termination, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &termination, nil)
        for number in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = handler
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
    }

    /// Puts the default actions back (tests).
    public static func restoreDefaults() {
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
    }

    /// Stops the waiter without a signal.
    public static func requestStop(exitCode: Int32) {
        lock.withLock { requestedExitCode = exitCode }
        sem_post(semaphore)
    }

    /// Blocks until a signal arrives or a stop is requested.
    public static func wait() -> StopReason {
        while sem_wait(semaphore) != 0 {}
        let code = lock.withLock { requestedExitCode }
        if code >= 0 {
            lock.withLock { requestedExitCode = -1 }
            return .requested(exitCode: code)
        }
        return .signal(lastSignal)
    }
}
