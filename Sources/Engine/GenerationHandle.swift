import Foundation

/// The consumer side of one running generation: a thread-safe event queue plus cancellation.
///
/// HTTP threads block in `next(timeout:)`; the engine thread calls `emit` and checks
/// `isCancelled` at every step. Cancelling (e.g. on client disconnect) makes the engine drop the
/// session at its next step and return its KV blocks.
public final class GenerationHandle: @unchecked Sendable {
    public let requestID: String
    private let condition = NSCondition()
    private var events: [GenerationEvent] = []
    private var readIndex = 0
    private var ended = false
    private var cancelled = false
    private let onCancel: (@Sendable () -> Void)?

    public init(requestID: String, onCancel: (@Sendable () -> Void)? = nil) {
        self.requestID = requestID
        self.onCancel = onCancel
    }

    /// Next event, waiting up to `timeout` seconds. Returns `.none` on timeout (use it to send
    /// keep-alives) and `.end` once the terminal event has been consumed.
    public func next(timeout: Double) -> NextEvent {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while readIndex == events.count {
            if ended { return .end }
            if !condition.wait(until: deadline) {
                if readIndex == events.count { return ended ? .end : .timeout }
            }
        }
        let event = events[readIndex]
        readIndex += 1
        if readIndex > 64, readIndex * 2 > events.count {
            events.removeFirst(readIndex)
            readIndex = 0
        }
        return .event(event)
    }

    public enum NextEvent: Sendable {
        case event(GenerationEvent)
        case timeout
        case end
    }

    /// Collects every event until the end (for non-streaming responses and tests).
    public func collect(timeout: Double = .infinity) -> [GenerationEvent] {
        var all: [GenerationEvent] = []
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            switch next(timeout: min(left, 3600)) {
            case .event(let event): all.append(event)
            case .timeout: continue
            case .end: return all
            }
        }
        return all
    }

    /// Asks the engine to stop this generation. Safe from any thread, idempotent.
    public func cancel() {
        condition.lock()
        let first = !cancelled
        cancelled = true
        condition.unlock()
        if first { onCancel?() }
    }

    public var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    // MARK: - Producer side (engine thread)

    /// Appends an event; a `.finished` or `.failed` event ends the stream.
    public func emit(_ event: GenerationEvent) {
        condition.lock()
        if !ended {
            events.append(event)
            switch event {
            case .finished, .failed: ended = true
            default: break
            }
        }
        condition.broadcast()
        condition.unlock()
    }
}
