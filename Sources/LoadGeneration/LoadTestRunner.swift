import Foundation
import JSON

/// Runs a `LoadTestPlan` against one or more servers: waits until each is ready, warms it up,
/// then for every concurrency level runs the level on each server in turn (so the servers
/// alternate level by level and see the same prompts), one `Thread` per client.
public final class LoadTestRunner: Sendable {
    public let plan: LoadTestPlan
    private let log: @Sendable (String) -> Void
    private let prompts: SyntheticPrompts
    private let backgroundPrompts: SyntheticPrompts?

    public init(plan: LoadTestPlan, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.plan = plan
        self.log = log
        prompts = SyntheticPrompts(seed: plan.seed, promptTokens: plan.promptTokens, sharedPrefixTokens: plan.sharedPrefixTokens)
        backgroundPrompts = plan.backgroundPromptTokens.map { SyntheticPrompts(seed: plan.seed ^ 0xB6, promptTokens: $0) }
    }

    /// Waits for `/health` to answer 200 (at most `readySeconds`), fills in the model name from
    /// `/v1/models` when none was given, and sends the warm-up requests; a failed warm-up
    /// request stops the run with its message (a wrong model name or API key fails here).
    public func prepare(_ target: LoadTarget, readySeconds: Double = 120) throws(LoadTestError) -> LoadTarget {
        var target = target
        try waitUntilReady(target.client, name: target.name, seconds: readySeconds)
        if target.model == nil { target.model = servedModel(target.client) }
        for index in 0..<plan.warmupRequests {
            let request = StreamedChatCompletion(
                model: target.model, messages: [.init(role: "user", content: prompts.prompt(stream: Self.warmupStream, index: index))],
                maxTokens: plan.maxTokens)
            let measurement = request.run(on: target.client)
            if let failure = measurement.failure {
                throw LoadTestError("warm-up request to \(target.name) (\(target.client.endpoint)) failed: \(failure)")
            }
        }
        return target
    }

    /// Runs every level on every target; `onResult` sees each result as soon as it exists.
    public func run(_ targets: [LoadTarget], onResult: (LevelResult) -> Void = { _ in }) -> [LevelResult] {
        var results: [LevelResult] = []
        for (levelIndex, clientCount) in plan.clientCounts.enumerated() {
            for target in targets {
                let phases: [Bool] = plan.backgroundPromptTokens == nil ? [false] : [false, true]
                for withBackground in phases {
                    let stream = levelIndex * 4 + (withBackground ? 1 : 0)
                    log("\(target.name): \(clientCount) client\(clientCount == 1 ? "" : "s")\(withBackground ? " with a background request" : "")…")
                    for result in runLevel(target, clientCount: clientCount, stream: stream, withBackground: withBackground,
                                           backgroundIndex: levelIndex) {
                        results.append(result)
                        onResult(result)
                    }
                }
            }
        }
        return results
    }

    static let warmupStream = 1 << 20
    static let backgroundStream = 1 << 21

    private func runLevel(_ target: LoadTarget, clientCount: Int, stream: Int, withBackground: Bool,
                          backgroundIndex: Int) -> [LevelResult] {
        let background = withBackground ? startBackground(target, index: backgroundIndex) : nil
        if background != nil { Thread.sleep(forTimeInterval: plan.backgroundLeadSeconds) }

        let schedule = RequestSchedule(limit: plan.requestLimit(clientCount: clientCount),
                                       deadline: plan.durationSeconds.map { MonotonicTime.now() + $0 })
        let collector = ConversationCollector()
        let sampler = MetricsSampler(client: target.client)
        sampler.start()
        let finished = DispatchGroup()
        for clientIndex in 0..<clientCount {
            finished.enter()
            let thread = Thread { [self] in
                while let index = schedule.next() {
                    collector.add(runConversation(target, stream: stream, index: index))
                }
                finished.leave()
            }
            thread.name = "loadtest-client-\(clientIndex)"
            thread.start()
        }
        finished.wait()
        let conversations = collector.conversations
        let backgroundMeasurement = background?.wait()
        let serverLoad = sampler.stop()

        let all = conversations.flatMap { $0 }
        var results: [LevelResult] = []
        if plan.turnCount > 1 {
            for turn in 0..<plan.turnCount {
                let turnMeasurements = conversations.compactMap { $0.count > turn ? $0[turn] : nil }
                var result = LevelResult(server: target.name, model: target.model, clientCount: clientCount,
                                         phase: "turn \(turn + 1)", maxTokens: plan.maxTokens,
                                         measurements: turnMeasurements, levelMeasurements: all)
                result.serverLoad = serverLoad
                results.append(result)
            }
        } else {
            let phase = plan.backgroundPromptTokens == nil ? "steady" : withBackground ? "background" : "idle"
            var result = LevelResult(server: target.name, model: target.model, clientCount: clientCount, phase: phase,
                                     maxTokens: plan.maxTokens, measurements: all, levelMeasurements: all)
            if let backgroundMeasurement { result.background = Self.backgroundResult(backgroundMeasurement, shortRequests: all) }
            result.serverLoad = serverLoad
            results.append(result)
        }
        return results
    }

    /// One conversation: turn 1 sends the prompt; each next turn resends it with the answers so
    /// far and a new question. Stops at the first failed turn.
    private func runConversation(_ target: LoadTarget, stream: Int, index: Int) -> [RequestMeasurement] {
        var messages: [StreamedChatCompletion.Message] = [.init(role: "user", content: prompts.prompt(stream: stream, index: index))]
        var turns: [RequestMeasurement] = []
        for turn in 0..<plan.turnCount {
            if turn > 0 {
                messages.append(.init(role: "assistant", content: turns[turn - 1].content))
                messages.append(.init(role: "user", content: prompts.question(stream: stream, index: index, turn: turn)))
            }
            let request = StreamedChatCompletion(model: target.model, messages: messages, maxTokens: plan.maxTokens,
                                                 keepsContent: plan.turnCount > 1)
            let measurement = request.run(on: target.client)
            turns.append(measurement)
            if !measurement.succeeded { break }
        }
        return turns
    }

    private func startBackground(_ target: LoadTarget, index: Int) -> BackgroundRequest? {
        guard let backgroundPrompts else { return nil }
        let request = StreamedChatCompletion(
            model: target.model,
            messages: [.init(role: "user", content: backgroundPrompts.prompt(stream: Self.backgroundStream, index: index))],
            maxTokens: plan.maxTokens)
        return BackgroundRequest(request, client: target.client)
    }

    static func backgroundResult(_ measurement: RequestMeasurement, shortRequests: [RequestMeasurement]) -> BackgroundResult {
        let firstToken = measurement.contentTimes.first
        let overlapping = shortRequests.filter { request in firstToken.map { request.startTime < $0 } ?? false }
        return BackgroundResult(
            promptTokens: measurement.promptTokens,
            timeToFirstToken: measurement.timeToFirstToken.map { $0 * 1000 },
            failure: measurement.failure?.description,
            overlappingTimeToFirstToken: SampleSummary(overlapping.filter(\.succeeded).compactMap(\.timeToFirstToken)).scaled(by: 1000))
    }

    private func waitUntilReady(_ client: LoopbackHTTPClient, name: String, seconds: Double) throws(LoadTestError) {
        let deadline = MonotonicTime.now() + seconds
        var last = "no answer"
        let probe = LoopbackHTTPClient(endpoint: client.endpoint, timeout: min(client.timeout, 10), apiKey: client.apiKey)
        while true {
            do {
                let reply = try probe.send(method: "GET", path: "/health")
                if reply.head.status == 200 { return }
                last = "HTTP \(reply.head.status): \(LoopbackHTTPClient.errorMessage(reply.body))"
            } catch {
                last = error.description
            }
            guard MonotonicTime.now() < deadline else {
                throw LoadTestError("\(name) at \(client.endpoint) is not ready after \(Int(seconds)) s (\(last)); "
                                    + "is the server running and done loading its model?")
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
    }

    /// The first model id of `GET /v1/models`, nil when the server does not list any.
    private func servedModel(_ client: LoopbackHTTPClient) -> String? {
        guard let reply = try? client.send(method: "GET", path: "/v1/models"), reply.head.status == 200,
              let json = try? JSONValue.parse(reply.body) else { return nil }
        return json["data"]?.arrayValue?.first?["id"]?.stringValue
    }
}

/// Hands out request indices to the clients of a level until the request budget or the
/// deadline is reached (at most `safetyLimit` either way, so the loop is bounded).
final class RequestSchedule: @unchecked Sendable {
    static let safetyLimit = 1_000_000
    private let lock = NSLock()
    private let limit: Int?
    private let deadline: Double?
    private var issued = 0

    init(limit: Int?, deadline: Double?) { self.limit = limit; self.deadline = deadline }

    func next() -> Int? {
        lock.withLock {
            guard issued < min(limit ?? Self.safetyLimit, Self.safetyLimit) else { return nil }
            if let deadline, MonotonicTime.now() >= deadline { return nil }
            defer { issued += 1 }
            return issued
        }
    }
}

/// The conversations of a level, appended by the client threads.
final class ConversationCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [[RequestMeasurement]] = []

    func add(_ conversation: [RequestMeasurement]) { lock.withLock { stored.append(conversation) } }

    var conversations: [[RequestMeasurement]] { lock.withLock { stored } }
}

/// The long request of a head-of-line run, streamed on its own thread.
final class BackgroundRequest: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var measurement: RequestMeasurement?

    init(_ request: StreamedChatCompletion, client: LoopbackHTTPClient) {
        let thread = Thread { [self] in
            let result = request.run(on: client)
            lock.withLock { measurement = result }
            done.signal()
        }
        thread.name = "loadtest-background"
        thread.start()
    }

    /// Waits for the request to end (every socket operation has a timeout, so it does).
    func wait() -> RequestMeasurement {
        done.wait()
        return lock.withLock { measurement! }
    }
}
