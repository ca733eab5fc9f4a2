import Foundation

/// Runs one of the repository's pytest suites (`Tests/EndToEnd`, `Tests/Deploy`) with the test
/// virtualenv's Python (`make test-venv`; `ENTROPYINFER_TEST_VENV` or `.build/e2e-venv`).
public enum PytestSuite {
    public struct Result: Sendable {
        public let status: Int32
        /// Standard output and error, interleaved.
        public let output: String
        /// The last `count` lines, for a test's log.
        public func tail(_ count: Int) -> String {
            output.split(separator: "\n").suffix(count).joined(separator: "\n")
        }
        /// For a failed run's message: pytest's one-line verdicts (`FAILED test::name - reason`,
        /// `ERROR ...`) first, so a log that keeps only a message's head still names the failing
        /// test, then the last `characters` of the output.
        public func failureReport(characters: Int = 20000) -> String {
            let verdicts = output.split(separator: "\n")
                .filter { $0.hasPrefix("FAILED ") || $0.hasPrefix("ERROR ") }
                .map { String($0.prefix(400)) }
            return (verdicts.isEmpty ? "" : verdicts.joined(separator: "\n") + "\n") + String(output.suffix(characters))
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case noPython(String)
        public var description: String {
            switch self {
            case .noPython(let path): return "no Python at \(path); run `make test-venv`"
            }
        }
    }

    /// Runs `pytest -q` on `Tests/<directory>` with `environment` overriding (nil values remove)
    /// the inherited variables, and the virtualenv's `bin` first on PATH.
    public static func run(directory: String, extraArguments: [String] = [],
                           environment overrides: [String: String?] = [:]) throws -> Result {
        let venv = ProcessInfo.processInfo.environment["ENTROPYINFER_TEST_VENV"]
            ?? TestModels.repositoryRoot.appendingPathComponent(".build/e2e-venv").path
        let python = URL(fileURLWithPath: venv).appendingPathComponent("bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else { throw Failure.noPython(python) }
        let suite = TestModels.repositoryRoot.appendingPathComponent("Tests/\(directory)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        // -rfE: a one-line verdict per failure and error at the end (see failureReport).
        process.arguments = ["-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider"] + extraArguments + [suite.path]
        process.currentDirectoryURL = suite
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in overrides { environment[key] = value }
        environment["PATH"] = URL(fileURLWithPath: venv).appendingPathComponent("bin").path + ":" + (environment["PATH"] ?? "")
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
