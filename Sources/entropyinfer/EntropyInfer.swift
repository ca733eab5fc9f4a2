import ArgumentParser

@main
struct EntropyInfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entropyinfer",
        abstract: "A CPU LLM inference server with an OpenAI-compatible API.",
        subcommands: [Serve.self, Generate.self, Pull.self, Bench.self, LoadTest.self, Health.self,
                      KernelBenchCommand.self, KernelSelfTestCommand.self])
}
