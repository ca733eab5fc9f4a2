import Engine
import Foundation
import JSON

/// Turns engine events into the bytes of one endpoint's SSE stream.
protocol StreamEncoder {
    /// Frames for one event of `choice` (possibly none).
    mutating func encode(choice: Int, event: GenerationEvent) -> [UInt8]
    /// Frames after every choice finished, before `data: [DONE]` (the usage chunk).
    mutating func trailer() -> [UInt8]
}

/// A streamed generation: the transport pulls bytes with `nextChunk()` from the connection's
/// thread, which blocks on the engine's events.
///
/// While nothing happens it sends an SSE comment every `keepAliveSeconds` and checks every
/// `pollInterval` whether the client is gone; a gone client (or `close(completed: false)`)
/// cancels every choice at once. An engine failure after the stream started becomes a
/// `data: {"error": …}` event and ends the stream without `[DONE]` (llama.cpp does the same).
final class GenerationStream<Encoder: StreamEncoder>: ResponseStream, @unchecked Sendable {
    private let lock = NSLock()
    private let events: ChoiceEvents
    private var encoder: Encoder
    private let connection: any ClientConnection
    private let keepAliveSeconds: Double
    private let pollInterval: Double
    private let record: RequestRecord
    private let promptParam: String
    private let retryAfterSeconds: Int
    private var timers: [ChoiceTimer]
    private var finishedCount = 0
    private var done = false
    private var lastOutputAt: Double
    private var lastConnectionCheck: Double

    init(handles: [GenerationHandle], encoder: Encoder, request: HTTPRequest, context: RouteContext, promptParam: String) {
        self.events = ChoiceEvents(handles: handles)
        self.encoder = encoder
        self.connection = request.connection
        self.keepAliveSeconds = context.options.keepAliveSeconds
        self.pollInterval = context.options.pollInterval
        self.record = context.record
        self.promptParam = promptParam
        self.retryAfterSeconds = context.options.retryAfterSeconds
        self.timers = handles.map { _ in ChoiceTimer(receivedAt: request.receivedAt, metrics: context.metrics) }
        self.lastOutputAt = MonotonicClock.now()
        self.lastConnectionCheck = lastOutputAt
    }

    /// Checks the connection at most every `pollInterval`, whether or not events keep coming.
    private func clientLeft(now: Double) -> Bool {
        guard now - lastConnectionCheck >= pollInterval else { return false }
        lastConnectionCheck = now
        return connection.isClosed
    }

    func nextChunk() -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return nil }
        var output: [UInt8] = []
        while output.isEmpty && !done {
            if finishedCount == events.handles.count {
                output += encoder.trailer()
                output += SSE.done
                done = true
                events.close()
                break
            }
            let now = MonotonicClock.now()
            if clientLeft(now: now) {
                if connection.isServerStopping {
                    record.setNote("cancelled at shutdown")
                    output += errorFrame(.shuttingDown)
                } else {
                    record.setNote("client disconnected")
                }
                abort()
                break
            }
            let silence = now - lastOutputAt
            if silence >= keepAliveSeconds {
                output = SSE.keepAlive
                break
            }
            switch events.next(timeout: min(pollInterval, keepAliveSeconds - silence)) {
            case .event(let choice, let event):
                output += handle(choice: choice, event: event)
            case .timeout:
                break
            case .end:
                output += errorFrame(.internalError("a generation ended without a result"))
                abort()
            }
        }
        lastOutputAt = MonotonicClock.now()
        return output.isEmpty ? nil : output
    }

    private func handle(choice: Int, event: GenerationEvent) -> [UInt8] {
        switch event {
        case .text(_, let tokens, _):
            timers[choice].text(tokenCount: tokens.count)
        case .finished(let reason, let usage):
            timers[choice].finished(reason, usage: usage)
            record.addTokens(prompt: 0, completion: usage.completionTokens)
            if reason == .cancelled {
                // Not cancelled by this stream (it stops reading once it cancels): the engine is
                // shutting down. A client still listening is told so.
                let clientLeft = connection.isClosed && !connection.isServerStopping
                record.setNote(clientLeft ? "client disconnected" : "cancelled by the engine")
                abort()
                return clientLeft ? [] : errorFrame(.shuttingDown)
            }
            finishedCount += 1
        case .failed(let error):
            record.setNote("engine error: \(error)")
            let frame = errorFrame(.engine(error, promptParam: promptParam, retryAfterSeconds: retryAfterSeconds))
            abort()
            return frame
        default:
            break
        }
        return encoder.encode(choice: choice, event: event)
    }

    private func errorFrame(_ error: APIError) -> [UInt8] { SSE.event(error.json) }

    /// Cancels every choice and ends the stream.
    private func abort() {
        done = true
        events.cancelAll()
    }

    func close(completed: Bool) {
        lock.withLock {
            if !done || !completed {
                if !done { record.setNote(connection.isClosed ? "client disconnected" : "stream closed early") }
                abort()
            }
        }
    }
}
