import Foundation
import HTTPServer
import Server
import Testing

/// Throughput and latency of the transport with the fake engine. Timing on a shared 2-vCPU
/// machine is noisy, so these only run with ENTROPYINFER_BENCH=1 and print their numbers.
@Suite("Transport benchmark", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["ENTROPYINFER_BENCH"] == "1"))
struct TransportBenchmarkTests {
    /// Keep-alive clients issuing GET /health back to back for `seconds`.
    static func requestsPerSecond(port: Int, clients: Int, seconds: Double, request: String, marker: String) -> Double {
        final class Counter: @unchecked Sendable {
            let lock = NSLock()
            var total = 0
        }
        let counter = Counter()
        let group = DispatchGroup()
        for _ in 0..<clients {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let connection = try? RawConnection(port: port) else { return }
                let bytes = Array(request.utf8)
                let end = Array(marker.utf8)
                var buffer = [UInt8](repeating: 0, count: 16384)
                var count = 0
                let deadline = MonotonicClock.now() + seconds
                while MonotonicClock.now() < deadline {
                    connection.send(bytes)
                    var received: [UInt8] = []
                    while !(received.count >= end.count && Array(received.suffix(end.count)) == end) {
                        let n = recv(connection.socket, &buffer, buffer.count, 0)
                        if n <= 0 { return }
                        received += buffer[0..<n]
                    }
                    count += 1
                }
                counter.lock.withLock { counter.total += count }
            }.start()
        }
        group.wait()
        return Double(counter.total) / seconds
    }

    @Test func healthRequestsPerSecond() throws {
        let live = try LiveServer(options: { var o = Harness.defaultOptions; o.requestLog = false; return o }())
        for clients in [1, 4, 8] {
            let rate = Self.requestsPerSecond(port: live.port, clients: clients, seconds: 3,
                                              request: "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", marker: "\"ok\"}")
            print("BENCH GET /health, \(clients) keep-alive clients: \(Int(rate)) requests/s")
        }
        let body = #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}"#
        let chat = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let rate = Self.requestsPerSecond(port: live.port, clients: 4, seconds: 3, request: chat, marker: "}}")
        print("BENCH POST /v1/chat/completions (fake engine, 1 token), 4 clients: \(Int(rate)) requests/s")
    }

    @Test func sseChunkLatencyAndThroughput() throws {
        let live = try LiveServer()
        // Latency: the client's receive time of each content chunk minus the fake's emit time.
        let body = #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true}"#
        let service = live.harness.service
        service.setScript { _ in FakeScript(reply: String(repeating: "t", count: 100), tokenDelay: 0.02) }
        let connection = try RawConnection(port: live.port)
        connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        var arrivals: [Double] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var text = ""
        while !text.contains("[DONE]") {
            let n = recv(connection.socket, &buffer, buffer.count, 0)
            if n <= 0 { break }
            let now = MonotonicClock.now()
            let piece = String(decoding: buffer[0..<n], as: UTF8.self)
            for _ in 0..<(piece.components(separatedBy: "\"content\":\"t\"").count - 1) { arrivals.append(now) }
            text += piece
        }
        let emits = service.emitTimes
        let latencies = zip(arrivals, emits).map { ($0 - $1) * 1e6 }.sorted()
        if !latencies.isEmpty {
            print("BENCH SSE chunk latency (engine emit → client recv), \(latencies.count) chunks: p50 \(Int(latencies[latencies.count / 2])) µs, p99 \(Int(latencies[latencies.count * 99 / 100])) µs")
        }
        // Throughput: one stream of 5000 tokens emitted back to back.
        service.setScript { _ in FakeScript(reply: String(repeating: "u", count: 5000)) }
        let collector = StreamCollector(live.request("POST", "/v1/chat/completions", body: #"{"messages": [{"role": "user", "content": "Hi"}], "stream": true}"#))
        let started = MonotonicClock.now()
        #expect(collector.wait())
        let seconds = MonotonicClock.now() - started
        print("BENCH one stream of 5000 chunks: \(Int(5000 / seconds)) chunks/s")
    }
}
