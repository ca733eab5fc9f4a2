import ArgumentParser
import Attention
import Engine
import Foundation
import HTTPServer
import Kernels
import KVMemory
import ModelStore
import Server

/// `entropyinfer serve`: the OpenAI-compatible HTTP server.
///
/// Order of events: read the configuration (defaults < file < environment < flags), log it
/// redacted, start listening (so `/health` answers 503 while the model loads), print the URL,
/// load the model into a `GenerationService`, serve until SIGTERM/SIGINT, then stop accepting,
/// let running requests finish for `shutdown_timeout_seconds`, cancel the rest and exit 0.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the OpenAI-compatible HTTP server.",
        discussion: """
            Every option can also be set in the JSON config file (--config) and through an \
            ENTROPYINFER_* environment variable; flags win over the environment, which wins over \
            the file. docs/CONFIGURATION.md has the full table.

            OPTIONS:
            \(ConfigurationDocumentation.helpText())
            """)

    @Flag(name: .customLong("print-config-docs"), help: .hidden)
    var printConfigDocs = false

    @Flag(name: .customLong("print-config-example"), help: .hidden)
    var printConfigExample = false

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var options: [String] = []

    func run() throws {
        if printConfigDocs { print(ConfigurationDocumentation.markdown(), terminator: ""); return }
        if printConfigExample { print(ConfigurationDocumentation.exampleFile(), terminator: ""); return }

        TerminationSignals.install()
        let loaded: ConfigurationLoader.Result
        do {
            loaded = try ConfigurationLoader().load(arguments: options, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(2)
        }
        let configuration = loaded.configuration
        let logger = Logger(level: configuration.logLevel)
        for warning in loaded.warnings { logger.warning(warning) }
        logger.info("configuration:\n  " + configuration.redactedSummary().joined(separator: "\n  "))

        let slot = ServiceSlot()
        let api = APIServer(slot: slot, options: ServerOptions(configuration: configuration), logger: logger)
        let http = HTTPServer(options: HTTPServerOptions(configuration: configuration), handler: api, logger: logger)
        do {
            try http.start()
        } catch {
            logger.error(error.message)
            throw ExitCode(1)
        }
        let shownHost = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        print("entropyinfer: listening on http://\(shownHost):\(http.port)")
        fflush(nil)

        let loader = Thread {
            do {
                let service = try makeGenerationService(configuration: configuration, logger: logger)
                slot.install(service)
                logger.info("model '\(service.model.id)' ready (context \(service.model.contextLength) tokens)")
            } catch {
                logger.error("cannot load the model: \(error)")
                TerminationSignals.requestStop(exitCode: 1)
            }
        }
        loader.name = "entropyinfer-model-loader"
        loader.start()

        let reason = TerminationSignals.wait()
        var exitCode: Int32 = 0
        switch reason {
        case .signal(let number):
            logger.info("received signal \(number): no longer accepting connections; waiting up to \(configuration.shutdownTimeoutSeconds) s for \(http.activeRequestCount) running requests")
            // A second signal while draining stops at once.
            Thread {
                _ = TerminationSignals.wait()
                logger.warning("second signal: exiting without waiting")
                Foundation.exit(1)
            }.start()
        case .requested(let code):
            exitCode = code
        }
        http.stop(gracePeriod: exitCode == 0 ? configuration.shutdownTimeoutSeconds : 0)
        logger.info("stopped")
        if exitCode != 0 { throw ExitCode(exitCode) }
    }
}

// MARK: - The engine

/// Builds the engine for `serve`: resolves `configuration.model` (catalog name or path), loads
/// it with `configuration.threads` threads (0: every CPU available) and a context of
/// `configuration.contextLength` (0: the model's; larger than the model's is an error), with a
/// queue of `configuration.maxQueue` waiting requests, answering to `configuration.aliases`.
/// Blocks while the model loads; `serve` is already answering `/health` with 503 meanwhile.
func makeGenerationService(configuration: Configuration, logger: Logger) throws -> any GenerationService {
    guard let model = configuration.model else {
        throw ValidationError("no model configured: pass --model NAME_OR_PATH (or set ENTROPYINFER_MODEL)")
    }
    var engine = EngineConfiguration(modelPath: try resolveModel(model).path)
    engine.threadCount = configuration.threads > 0 ? configuration.threads : ProcessInfo.processInfo.activeProcessorCount
    engine.contextLength = configuration.contextLength > 0 ? configuration.contextLength : nil
    engine.maxQueuedRequests = configuration.maxQueue
    engine.aliases = configuration.aliases
    engine.kvMemoryBytes = configuration.kvMemoryBytes > 0 ? configuration.kvMemoryBytes : nil
    engine.kvDataType = KVDataType(rawValue: configuration.kvCacheType) ?? .f16
    engine.activationPrecision = ActivationPrecision(rawValue: configuration.activationPrecision) ?? .high
    engine.scheduler.maxBatchTokens = configuration.maxBatchTokens
    engine.scheduler.maxRunningSessions = configuration.maxRunningSessions
    var attention = try AttentionPolicy.named(configuration.attentionPolicy)
    attention.minimumPromptTokens = configuration.attentionMinPromptTokens
    engine.defaultAttention = attention
    do {
        var compression = try KVCompressionPolicy.named(configuration.kvCompressionPolicy)
        try compression.set("budget", integer: configuration.kvCompressionBudget)
        compression.minimumPromptTokens = configuration.kvCompressionMinPromptTokens
        engine.defaultKVCompression = try compression.validated()
    } catch {
        throw ValidationError("kv_compression: \(error)")
    }
    let service = try InferenceEngine(configuration: engine)
    if configuration.contextLength > service.model.contextLength {
        throw ValidationError("context_length \(configuration.contextLength) exceeds the model's \(service.model.contextLength) tokens")
    }
    return service
}
