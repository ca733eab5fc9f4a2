import Engine
import Foundation
import HTTPServer
import JSON
import LoadGeneration
import Server
import TestSupport
import Testing

/// `entropyinfer loadtest`'s runner against the real server (libmicrohttpd transport, real
/// engine) serving the tiny random GGUF on a free loopback port: short runs of each mode.
@Suite("LoadTest end to end", .serialized)
struct LoadTestEndToEndTests {
    /// The real stack in-process: `InferenceEngine` on the tiny model behind `APIServer` and `HTTPServer`.
    final class RealServer: @unchecked Sendable {
        static let modelPath: String = try! TinyModel.write(seed: 3, contextLength: 1024)
        let engine: InferenceEngine
        let http: HTTPServer

        init() throws {
            var configuration = EngineConfiguration(modelPath: Self.modelPath)
            configuration.threadCount = 1
            engine = try InferenceEngine(configuration: configuration)
            let api = APIServer(slot: ServiceSlot(engine), options: ServerOptions(), logger: Logger(level: .error))
            var transport = HTTPServerOptions()
            transport.host = "127.0.0.1"
            transport.port = 0
            http = HTTPServer(options: transport, handler: api, logger: Logger(level: .error))
            try http.start()
        }

        deinit {
            http.stop(gracePeriod: 0)
            engine.shutdown()
        }

        func target() throws -> LoadTarget {
            LoadTarget(name: "entropyinfer", client: LoopbackHTTPClient(
                endpoint: try LoopbackEndpoint(url: "http://127.0.0.1:\(http.port)"), timeout: 30))
        }
    }

    @Test func twoLevelsOfStreamingClients() throws {
        let server = try RealServer()
        var plan = LoadTestPlan(clientCounts: [1, 3])
        plan.requestsPerLevel = 6
        plan.promptTokens = 12
        plan.maxTokens = 8
        plan.warmupRequests = 1
        let runner = LoadTestRunner(plan: plan)
        let target = try runner.prepare(try server.target(), readySeconds: 10)
        #expect(target.model == server.engine.model.id)  // read from /v1/models
        let results = runner.run([target])
        #expect(results.map(\.clientCount) == [1, 3])
        for result in results {
            #expect(result.failures.isEmpty, "\(result.failureExamples)")
            #expect(result.requestCount == 6 && result.succeededCount == 6)
            // ignore_eos and max_tokens: exactly 8 tokens each, as the server counts them.
            #expect(result.generatedTokens == 48 && result.mismatchedLengthCount == 0)
            #expect(result.contentEventCount >= 6 && result.contentEventCount <= 48)
            #expect(result.timeToFirstToken.count == 6)
            #expect(result.interTokenLatency.count == result.contentEventCount - 6)
            #expect(result.tokensPerSecond > 0 && result.tokensPerSecond == Double(48) / result.wallSeconds)
            let ttft = try #require(result.timeToFirstToken.p50), e2e = try #require(result.endToEndLatency.p50)
            #expect(ttft > 0 && ttft <= e2e)
            #expect((result.promptTokens.minimum ?? 0) > 12)
            // The server's /metrics was sampled while the level ran (at least once, at its end).
            let load = try #require(result.serverLoad)
            #expect(load.sampleCount >= 1 && load.peakRunning <= result.clientCount && load.preemptions == 0)
            #expect(load.meanRunning <= Double(load.peakRunning) && (load.peakKVBytes ?? -1) >= 0)
            #expect((load.peakDecoding ?? -1) >= 0 && (load.peakDecoding ?? 0) <= load.peakRunning)
        }
        let report = LoadTestReport(plan: plan, targets: [target], results: results)
        #expect(report.markdown.contains("| entropyinfer | 3 | 6/6 | 0 |"))
        #expect(report.markdown.contains("Server load"))
        for line in report.jsonLines { #expect(try JSONValue.parse(line)["type"] == "level") }
    }

    @Test func secondTurnReusesTheFirstTurnsPrefix() throws {
        let server = try RealServer()
        var plan = LoadTestPlan(clientCounts: [2])
        plan.requestsPerLevel = 2
        plan.promptTokens = 40
        plan.maxTokens = 6
        plan.turnCount = 2
        plan.warmupRequests = 0
        let runner = LoadTestRunner(plan: plan)
        let results = runner.run([try runner.prepare(try server.target(), readySeconds: 10)])
        #expect(results.map(\.phase) == ["turn 1", "turn 2"])
        let (first, second) = (results[0], results[1])
        #expect(first.succeededCount == 2 && second.succeededCount == 2, "\(first.failureExamples) \(second.failureExamples)")
        // The second turn resends the first turn's prompt: at least one whole 16-token KV block of it is reused.
        #expect((first.cachedTokens.maximum ?? -1) < 16)
        #expect((second.cachedTokens.minimum ?? 0) >= 16)
        #expect((second.promptTokens.minimum ?? 0) > (first.promptTokens.maximum ?? .infinity))
        #expect(first.tokensPerSecond == second.tokensPerSecond)  // both rows show the level's figure
    }

    @Test func backgroundRequestRunsBeforeTheLoadedLevel() throws {
        let server = try RealServer()
        var plan = LoadTestPlan(clientCounts: [1])
        plan.requestsPerLevel = 2
        plan.promptTokens = 8
        plan.maxTokens = 4
        plan.warmupRequests = 0
        plan.backgroundPromptTokens = 150
        plan.backgroundLeadSeconds = 0.01
        let runner = LoadTestRunner(plan: plan)
        let results = runner.run([try runner.prepare(try server.target(), readySeconds: 10)])
        #expect(results.map(\.phase) == ["idle", "background"])
        #expect(results[0].background == nil)
        let background = try #require(results[1].background)
        #expect(background.failure == nil, "\(background.failure ?? "")")
        #expect((background.promptTokens ?? 0) > 150)
        #expect((background.timeToFirstToken ?? 0) > 0)
        #expect(results[1].succeededCount == 2)
        #expect(LoadTestReport(plan: plan, targets: [try server.target()], results: results).markdown.contains("Head-of-line"))
    }
}
