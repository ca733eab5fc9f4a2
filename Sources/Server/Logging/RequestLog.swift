import Foundation

/// What one request did, filled in while it runs and logged once when it ends:
/// `POST /v1/chat/completions 200 prompt_tokens=12 completion_tokens=34 1.234s`.
public final class RequestRecord: @unchecked Sendable {
    private let lock = NSLock()
    public let method: String
    public let path: String
    public let startedAt: Double
    private var promptTokenCount = 0
    private var completionTokenCount = 0
    private var note: String? = nil

    public init(method: String, path: String, startedAt: Double) {
        self.method = method; self.path = path; self.startedAt = startedAt
    }

    /// Adds to the token counts (each choice of a request reports its own).
    public func addTokens(prompt: Int, completion: Int) {
        lock.withLock { promptTokenCount += prompt; completionTokenCount += completion }
    }

    /// A short remark for the log line, e.g. why a stream ended early.
    public func setNote(_ text: String) { lock.withLock { note = text } }

    public var tokens: (prompt: Int, completion: Int) { lock.withLock { (promptTokenCount, completionTokenCount) } }

    public func line(status: Int, now: Double = MonotonicClock.now()) -> String {
        let (prompt, completion, remark) = lock.withLock { (promptTokenCount, completionTokenCount, note) }
        var text = "\(method) \(path) \(status)"
        if prompt > 0 || completion > 0 { text += " prompt_tokens=\(prompt) completion_tokens=\(completion)" }
        text += String(format: " %.3fs", now - startedAt)
        if let remark { text += " (\(remark))" }
        return text
    }
}
