import JSON

/// A streamed `POST /v1/chat/completions` as a load test sends it: greedy (`temperature` 0),
/// `ignore_eos` with `max_tokens`, so every request generates exactly `maxTokens` tokens on a
/// server that honours `ignore_eos` (entropyinfer and llama.cpp's llama-server both do), and
/// `stream_options.include_usage` so the server reports its token counts.
public struct StreamedChatCompletion: Sendable {
    public struct Message: Sendable, Equatable {
        public var role: String
        public var content: String
        public init(role: String, content: String) { self.role = role; self.content = content }
    }

    public var model: String?
    public var messages: [Message]
    public var maxTokens: Int
    /// Keep the generated text in the measurement (multi-turn runs resend it).
    public var keepsContent = false

    public init(model: String?, messages: [Message], maxTokens: Int, keepsContent: Bool = false) {
        self.model = model; self.messages = messages; self.maxTokens = maxTokens; self.keepsContent = keepsContent
    }

    public static let path = "/v1/chat/completions"

    public var body: [UInt8] {
        var object: JSONObject = [:]
        if let model { object["model"] = .string(model) }
        object["messages"] = .array(messages.map { ["role": .string($0.role), "content": .string($0.content)] })
        object["stream"] = true
        object["stream_options"] = ["include_usage": true]
        object["max_tokens"] = .int(maxTokens)
        object["temperature"] = 0
        object["ignore_eos"] = true
        return JSONValue.object(object).serialized()
    }

    /// Sends the request and measures it. Never throws: failures are recorded in the result.
    public func run(on client: LoopbackHTTPClient) -> RequestMeasurement {
        var measurement = RequestMeasurement(startTime: MonotonicTime.now())
        var reader = ChatChunkReader(keepsContent: keepsContent)
        do throws(RequestFailure) {
            measurement.keepAliveCount = try client.stream(path: Self.path, body: body) { (event, time) throws(RequestFailure) in
                try reader.read(event, at: time)
            }
            guard let doneTime = reader.doneTime else {
                throw RequestFailure(.protocolViolation, "the stream ended without data: [DONE]")
            }
            measurement.endTime = doneTime
        } catch {
            measurement.failure = error
            measurement.endTime = MonotonicTime.now()
        }
        measurement.contentTimes = reader.contentTimes
        measurement.completionTokens = reader.completionTokens
        measurement.promptTokens = reader.promptTokens
        measurement.cachedTokens = reader.cachedTokens
        measurement.content = reader.content
        return measurement
    }
}

/// Reads the events of an OpenAI chat (or completions) stream: which ones carry generated text
/// (`delta.content`, `delta.reasoning_content` or a completions `text`, non-empty), the usage
/// chunk, an `error` event, and `[DONE]`. Role-only and finish chunks are not tokens.
public struct ChatChunkReader: Sendable {
    public let keepsContent: Bool
    public private(set) var contentTimes: [Double] = []
    public private(set) var content = ""
    public private(set) var completionTokens: Int?
    public private(set) var promptTokens: Int?
    public private(set) var cachedTokens: Int?
    public private(set) var doneTime: Double?

    public init(keepsContent: Bool = false) { self.keepsContent = keepsContent }

    public mutating func read(_ event: SSEEvent, at time: Double) throws(RequestFailure) {
        guard doneTime == nil else { return }
        if event.data == "[DONE]" {
            doneTime = time
            return
        }
        let chunk: JSONValue
        do { chunk = try JSONValue.parse(event.data) } catch {
            throw RequestFailure(.protocolViolation, "an event is not JSON (\(error)): \(event.data.prefix(120))")
        }
        if let error = chunk["error"], !error.isNull {
            throw RequestFailure(.stream, error["message"]?.stringValue ?? error.stringValue ?? "\(error)")
        }
        var carriesText = false
        for choice in chunk["choices"]?.arrayValue ?? [] {
            if let reasoning = choice["delta"]?["reasoning_content"]?.stringValue, !reasoning.isEmpty { carriesText = true }
            // The answer text, resent as the assistant message of a next turn.
            for text in [choice["delta"]?["content"], choice["text"]] {
                guard let text = text?.stringValue, !text.isEmpty else { continue }
                carriesText = true
                if keepsContent { content += text }
            }
        }
        if carriesText { contentTimes.append(time) }
        if let usage = chunk["usage"], !usage.isNull {
            completionTokens = usage["completion_tokens"]?.intValue
            promptTokens = usage["prompt_tokens"]?.intValue
            cachedTokens = usage["prompt_tokens_details"]?["cached_tokens"]?.intValue
        }
    }
}
