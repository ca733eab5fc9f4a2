import Engine
import Foundation

/// The events of all choices of one request as one ordered source, so a stream can wait on
/// every choice at once. With one choice it reads the handle directly; with several, one
/// forwarding thread per handle moves events into a shared queue (`GenerationHandle` has no
/// "wait for any"), and stops when its handle ends or the source is closed.
final class ChoiceEvents: @unchecked Sendable {
    enum Next {
        case event(choice: Int, GenerationEvent)
        case timeout
        /// Every handle has ended.
        case end
    }

    let handles: [GenerationHandle]
    private let condition = NSCondition()
    private var queue: [(Int, GenerationEvent)] = []
    private var readIndex = 0
    private var endedCount = 0
    private var closed = false

    init(handles: [GenerationHandle]) {
        self.handles = handles
        guard handles.count > 1 else { return }
        for (choice, handle) in handles.enumerated() {
            let thread = Thread { [self] in forward(choice: choice, handle: handle) }
            thread.name = "entropyinfer-choice-\(choice)"
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    private func forward(choice: Int, handle: GenerationHandle) {
        while true {
            let next = handle.next(timeout: 0.5)
            condition.lock()
            if closed {
                condition.unlock()
                return
            }
            switch next {
            case .event(let event):
                queue.append((choice, event))
                condition.broadcast()
                condition.unlock()
            case .timeout:
                condition.unlock()
            case .end:
                endedCount += 1
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }

    func next(timeout: Double) -> Next {
        if handles.count == 1 {
            switch handles[0].next(timeout: timeout) {
            case .event(let event): return .event(choice: 0, event)
            case .timeout: return .timeout
            case .end: return .end
            }
        }
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while readIndex == queue.count {
            if endedCount == handles.count { return .end }
            if !condition.wait(until: deadline) {
                if readIndex == queue.count { return endedCount == handles.count ? .end : .timeout }
            }
        }
        let (choice, event) = queue[readIndex]
        readIndex += 1
        if readIndex > 64, readIndex * 2 > queue.count {
            queue.removeFirst(readIndex)
            readIndex = 0
        }
        return .event(choice: choice, event)
    }

    /// Cancels every generation and stops the forwarding threads.
    func cancelAll() {
        for handle in handles { handle.cancel() }
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the forwarding threads (after every choice finished).
    func close() {
        condition.lock()
        closed = true
        condition.unlock()
    }
}
