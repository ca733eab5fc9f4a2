import Dispatch
import Foundation

/// One piece of work at a time on a background thread, so a pull can inflate and hash wheel N
/// while wheel N+1 downloads. `wait` joins the current piece and rethrows its error (and every
/// later `wait` rethrows it too).
final class BackgroundWork: @unchecked Sendable {
    private let queue = DispatchQueue(label: "entropyinfer.model-store.background")
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var failure: Error?

    /// Runs `work` after everything started before it. Call `wait` before touching what it uses.
    func start(_ work: @escaping @Sendable () throws -> Void) {
        queue.async(group: group) {
            do {
                try work()
            } catch {
                self.lock.withLock { if self.failure == nil { self.failure = error } }
            }
        }
    }

    func wait() throws {
        group.wait()
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}

/// Runs two pieces of work on two threads and waits for both; rethrows the first one's error
/// if it failed, else the second one's.
func runConcurrently(_ first: () throws -> Void, _ second: () throws -> Void) throws {
    try withoutActuallyEscaping(first) { first in
        try withoutActuallyEscaping(second) { second in
            let works = UncheckedSendableBox([first, second])
            let failures = UncheckedSendableBox<[Error?]>([nil, nil])
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                do {
                    try works.value[index]()
                } catch {
                    failures.lock.withLock { failures.value[index] = error }
                }
            }
            if let failure = failures.value.compactMap({ $0 }).first { throw failure }
        }
    }
}

/// Hands a value to `concurrentPerform` workers; `lock` guards mutation.
private final class UncheckedSendableBox<Value>: @unchecked Sendable {
    let lock = NSLock()
    var value: Value
    init(_ value: Value) { self.value = value }
}
