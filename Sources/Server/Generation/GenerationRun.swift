import Engine

/// The engine side of one API request: its choices submitted, then either collected
/// (non-streaming) or handed to a stream.
enum GenerationRun {
    /// Submits every request; if one is refused, the ones already queued are cancelled and the
    /// refusal becomes the answer.
    static func submit(_ requests: [GenerationRequest], to service: any GenerationService, promptParam: String,
                       retryAfterSeconds: Int) throws(APIError) -> [GenerationHandle] {
        var handles: [GenerationHandle] = []
        handles.reserveCapacity(requests.count)
        for request in requests {
            do {
                handles.append(try service.submit(request))
            } catch {
                for handle in handles { handle.cancel() }
                throw APIError.engine(error, promptParam: promptParam, retryAfterSeconds: retryAfterSeconds)
            }
        }
        return handles
    }

    /// Waits until every choice finished, checking every `pollInterval` seconds whether the client
    /// is still there. Any failure, or the client leaving, cancels all choices.
    static func collect(_ handles: [GenerationHandle], request: HTTPRequest, context: RouteContext,
                        promptParam: String) throws(APIError) -> [ChoiceOutcome] {
        let events = ChoiceEvents(handles: handles)
        var outcomes = Array(repeating: ChoiceOutcome(), count: handles.count)
        var timers = handles.map { _ in ChoiceTimer(receivedAt: request.receivedAt, metrics: context.metrics) }
        var finished = 0
        var lastCheck = MonotonicClock.now()
        while finished < handles.count {
            let now = MonotonicClock.now()
            if now - lastCheck >= context.options.pollInterval {
                lastCheck = now
                if request.connection.isClosed {
                    events.cancelAll()
                    throw request.connection.isServerStopping ? APIError.shuttingDown : APIError.clientClosedRequest
                }
            }
            switch events.next(timeout: context.options.pollInterval) {
            case .event(let choice, let event):
                switch event {
                case .progress:
                    break
                case .promptLogprobs(let entries):
                    outcomes[choice].promptLogprobs = entries
                case .text(let text, let tokens, let logprobs):
                    outcomes[choice].text += text
                    outcomes[choice].logprobs += logprobs
                    timers[choice].text(tokenCount: tokens.count)
                case .finished(let reason, let usage):
                    outcomes[choice].finishReason = reason
                    outcomes[choice].usage = usage
                    timers[choice].finished(reason, usage: usage)
                    finished += 1
                    if reason == .cancelled {
                        events.cancelAll()
                        let clientLeft = request.connection.isClosed && !request.connection.isServerStopping
                        throw clientLeft ? APIError.clientClosedRequest : APIError.shuttingDown
                    }
                case .failed(let error):
                    events.cancelAll()
                    throw APIError.engine(error, promptParam: promptParam, retryAfterSeconds: context.options.retryAfterSeconds)
                }
            case .timeout:
                continue
            case .end:
                // Handles ended without a terminal event (cannot happen with a conforming engine).
                events.cancelAll()
                throw APIError.internalError("a generation ended without a result")
            }
        }
        events.close()
        return outcomes
    }
}

/// Everything one finished choice produced.
struct ChoiceOutcome {
    var text = ""
    var logprobs: [TokenLogprob] = []
    var promptLogprobs: [TokenLogprob?]? = nil
    var finishReason: FinishReason = .stop
    var usage = GenerationUsage()
}

extension FinishReason {
    /// OpenAI's `finish_reason` text.
    var apiValue: String {
        switch self {
        case .stop: return "stop"
        case .length: return "length"
        case .cancelled: return "abort"
        }
    }
}
