import Foundation
import Kernels
import TestSupport
import Testing

/// Runs `entropyinfer kernel-selftest` on emulated CPUs without AVX-512 (Haswell: AVX2 + FMA +
/// F16C) and without AVX (Nehalem) under qemu-user. Any instruction above the level CPUID
/// reports kills the process with SIGILL; any numeric difference fails the self-test.
@Suite(.serialized) struct KernelSelfTestUnderQEMUTests {
    @Test(arguments: [("Haswell", "avx2"), ("Nehalem", "portable")])
    func selfTestPassesOnOlderCPUs(cpu: String, expectedLevel: String) throws {
        guard let qemu = Self.qemu() else {
            print("skipping the \(cpu) self-test: qemu-x86_64 is not installed and scripts/install-system-deps.sh could not install qemu-user")
            return
        }
        let binary = Self.entropyinferBinary()
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("no entropyinfer binary at \(binary.path); build it first (`swift build --product entropyinfer`, or `make test`)")
            return
        }
        let (status, output) = try Self.run(qemu, ["-cpu", cpu, binary.path, "kernel-selftest"])
        #expect(status == 0, "kernel-selftest under qemu -cpu \(cpu) exited with \(status):\n\(output)")
        #expect(output.contains("best level \(expectedLevel),"), "CPUID dispatch under \(cpu) should pick \(expectedLevel):\n\(output)")
        #expect(output.contains(" 0 failures"), "\(output)")
    }

    /// The entropyinfer executable next to the test bundle (same build configuration).
    static func entropyinferBinary() -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.path != "/" && !directory.lastPathComponent.hasSuffix(".xctest") && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("entropyinfer").path) {
            directory.deleteLastPathComponent()
        }
        if directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("entropyinfer")
    }

    static func qemu() -> String? {
        func find() -> String? {
            ["/usr/bin/qemu-x86_64", "/usr/local/bin/qemu-x86_64", "/usr/bin/qemu-x86_64-static"].first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        if let path = find() { return path }
        let script = TestModels.repositoryRoot.appendingPathComponent("scripts/install-system-deps.sh").path
        _ = try? run("/bin/bash", [script])
        return find()
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
