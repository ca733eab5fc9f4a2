import ArgumentParser
import Foundation
import ModelStore

/// Prints `message` to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Runs `body`, turning any error into a one-line message on stderr and exit status 1
/// (ArgumentParser's own errors and exit codes pass through).
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}

/// Options naming a model and the compute threads, shared by subcommands.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A catalog name (see `entropyinfer pull --list`) or a path to a .gguf file.")
    var model: String = "smollm2-135m-instruct"

    @Option(name: .long, help: "Compute threads (default: the CPUs available to this process).")
    var threads: Int?

    func resolvedPath() throws -> String {
        try resolveModel(model).path
    }

    var threadCount: Int {
        threads ?? ProcessInfo.processInfo.activeProcessorCount
    }
}
