import Foundation
import GGUF
import TestSupport
import Testing

/// Runs the release binary and captures its exit status and output.
func runBinary(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 120) throws
    -> (status: Int32, crashed: Bool, stdout: String, stderr: String) {
    let binary = TestModels.repositoryRoot.appendingPathComponent(".build/release/entropyinfer")
    guard FileManager.default.fileExists(atPath: binary.path) else {
        throw CommandLineTestError("\(binary.path) does not exist; build it with `swift build -c release --product entropyinfer`")
    }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    // Output goes to files, so a chatty child never blocks on a full pipe.
    let directory = NSTemporaryDirectory() + "cli-run-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    FileManager.default.createFile(atPath: directory + "/out", contents: nil)
    FileManager.default.createFile(atPath: directory + "/err", contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/out"))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/err"))
    try process.run()
    let deadline = Date(timeIntervalSinceNow: timeout)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    let out = (try? String(contentsOfFile: directory + "/out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: directory + "/err", encoding: .utf8)) ?? ""
    return (process.terminationStatus, process.terminationReason == .uncaughtSignal, out, err)
}

struct CommandLineTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Bad input to the command line gets a clear message and a non-zero exit, never a crash.
@Suite(.serialized) struct CommandLineErrorTests {
    func expectFailure(_ arguments: [String], mentions: [String], _ comment: String) throws {
        let result = try runBinary(arguments)
        #expect(!result.crashed, "\(comment): crashed\n\(result.stderr)")
        #expect(result.status != 0, "\(comment): exit status 0")
        for text in mentions {
            #expect(result.stderr.contains(text), "\(comment): stderr lacks '\(text)':\n\(result.stderr)")
        }
    }

    @Test func missingModels() throws {
        try expectFailure(["generate", "--model", "/nonexistent/model.gguf", "--prompt", "hi"],
                          mentions: ["/nonexistent/model.gguf"], "missing path")
        try expectFailure(["generate", "--model", "no-such-model", "--prompt", "hi"],
                          mentions: ["smollm2-135m-instruct"], "unknown name lists the catalog")
        let home = NSTemporaryDirectory() + "empty-home-\(UUID().uuidString)"
        let result = try runBinary(["generate", "--model", "qwen2.5-coder-0.5b-instruct", "--prompt", "hi"],
                                   environment: ["ENTROPYINFER_HOME": home])
        #expect(result.status != 0 && !result.crashed)
        #expect(result.stderr.contains("entropyinfer pull qwen2.5-coder-0.5b-instruct"), "\(result.stderr)")
    }

    @Test func corruptAndUnsupportedFiles() throws {
        let valid = try Data(contentsOf: URL(fileURLWithPath: TinyModel.path))
        let directory = NSTemporaryDirectory() + "cli-bad-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let truncated = directory + "/truncated.gguf"
        try valid.prefix(valid.count / 2).write(to: URL(fileURLWithPath: truncated))
        try expectFailure(["generate", "--model", truncated, "--prompt", "hi"], mentions: ["truncated"], "truncated file")

        let notGGUF = directory + "/text.gguf"
        try Data("this is not a model".utf8).write(to: URL(fileURLWithPath: notGGUF))
        try expectFailure(["generate", "--model", notGGUF, "--prompt", "hi"], mentions: ["not a GGUF file"], "not GGUF")

        var writer = GGUFWriter()
        writer.set("general.architecture", .string("mamba9"))
        let unknown = try writer.write(name: "unknown-arch")
        try expectFailure(["generate", "--model", unknown, "--prompt", "hi"],
                          mentions: ["unknown model architecture 'mamba9'", "llama", "qwen2"], "unknown architecture")

        // A tensor of a type the kernels cannot compute with (IQ4_NL, id 20, 32-element blocks).
        var bytes = [UInt8](valid)
        let file = try GGUFFile(path: TinyModel.path)
        let info = try file.tensor("blk.0.attn_q.weight")
        // The tensor directory stores the type right after the dimensions; find it by rewriting the
        // matching (name, dims, type) record.
        let name = Array("blk.0.attn_q.weight".utf8)
        if let start = bytes.firstRange(of: name)?.upperBound {
            let typeOffset = start + 4 + 8 * info.dimensions.count
            bytes[typeOffset] = 20
            let unsupported = directory + "/iq2.gguf"
            try Data(bytes).write(to: URL(fileURLWithPath: unsupported))
            try expectFailure(["generate", "--model", unsupported, "--prompt", "hi"],
                              mentions: ["blk.0.attn_q.weight", "IQ4_NL", "supported"], "unsupported tensor type")
        } else {
            Issue.record("tensor record not found in the tiny model")
        }
    }

    @Test func promptLongerThanTheContext() throws {
        let prompt = String(repeating: "the cat sat on the mat ", count: 200)   // far beyond 512 tokens
        try expectFailure(["generate", "--model", TinyModel.path, "--prompt", prompt, "--max-tokens", "4"],
                          mentions: ["maximum context length is 512 tokens"], "prompt too long")
    }

    /// Random damage to a valid file never crashes the loader.
    @Test func byteFlipsNeverCrash() throws {
        let valid = try Data(contentsOf: URL(fileURLWithPath: TinyModel.path))
        let directory = NSTemporaryDirectory() + "cli-flips-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var state: UInt64 = 12345
        for trial in 0..<12 {
            var bytes = [UInt8](valid)
            for _ in 0..<4 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                // Damage the header and tensor directory, where parsing happens.
                let index = Int(state >> 33) % min(bytes.count, 4096)
                bytes[index] ^= UInt8(truncatingIfNeeded: state >> 7) | 1
            }
            let path = directory + "/flip\(trial).gguf"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let result = try runBinary(["generate", "--model", path, "--prompt", "hi", "--max-tokens", "2"])
            #expect(!result.crashed, "trial \(trial) crashed:\n\(result.stderr)")
            #expect(result.stderr.utf8.count < 4000, "trial \(trial): error messages stay short")
        }
    }
}

extension TinyModel {
    /// One tiny model file per test process.
    static let path: String = try! TinyModel.write()
}
