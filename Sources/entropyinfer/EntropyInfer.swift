import ArgumentParser
import Kernels

@main
struct EntropyInfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entropyinfer",
        abstract: "A CPU LLM inference server with an OpenAI-compatible API.",
        subcommands: [Serve.self, Generate.self, Pull.self, Bench.self, GrammarBench.self, LoadTest.self, Health.self, Eval.self, Profile.self,
                      KernelBenchCommand.self, KernelSelfTestCommand.self])

    static func main() {
        // Before any OpenBLAS call: on CPUs it does not know, restart once with a better core.
        OpenBLASCore.selectForThisProcess()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
