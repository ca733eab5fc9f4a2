import Foundation
import Server
import TestSupport
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    /// A loader reading files from a dictionary.
    static func loader(_ files: [String: String]) -> ConfigurationLoader {
        ConfigurationLoader { path in
            guard let text = files[path] else { throw ConfigurationError("no such file") }
            return Array(text.utf8)
        }
    }

    @Test func defaultsComeFromTheTable() throws {
        let result = try Self.loader([:]).load(arguments: [], environment: [:])
        let configuration = result.configuration
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.model == "smollm2-135m-instruct")
        #expect(configuration.maxBodyBytes == 16 * 1024 * 1024)
        #expect(configuration.apiKeys.isEmpty)
        #expect(configuration.requestLog)
        #expect(configuration.logLevel == .info)
        #expect(configuration.sources["port"] == .defaultValue)
        #expect(result.warnings.isEmpty)
    }

    @Test func fileThenEnvironmentThenFlags() throws {
        let file = #"{"port": 9000, "host": "0.0.0.0", "threads": 3, "aliases": ["a", "b"], "max_queue": 5, "api_key": null}"#
        let result = try Self.loader(["/etc/ei.json": file]).load(
            arguments: ["--config", "/etc/ei.json", "--port=9002", "--alias", "x", "--alias", "y", "--no-request-log"],
            environment: ["ENTROPYINFER_PORT": "9001", "ENTROPYINFER_THREADS": "4", "ENTROPYINFER_MAX_QUEUE": "6",
                          "ENTROPYINFER_ALIASES": "c, d"])
        let configuration = result.configuration
        #expect(configuration.port == 9002)
        #expect(configuration.sources["port"] == .flag)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.sources["host"] == .file)
        #expect(configuration.threads == 4)
        #expect(configuration.sources["threads"] == .environment)
        #expect(configuration.maxQueue == 6)
        #expect(configuration.aliases == ["x", "y"])
        #expect(!configuration.requestLog)
        #expect(configuration.string("api_key") == nil)
    }

    @Test func byteSizesInEveryLayer() throws {
        #expect(ByteSize.parse("2GiB") == 2 << 30)
        #expect(ByteSize.parse("512m") == 512 << 20)
        #expect(ByteSize.parse("1.5G") == 3 << 29)
        #expect(ByteSize.parse("64KB") == 64 << 10)
        #expect(ByteSize.parse("65536") == 65536)
        #expect(ByteSize.parse("-1G") == nil)
        #expect(ByteSize.parse("2XB") == nil)
        #expect(ByteSize.parse("G") == nil)
        #expect(ByteSize.text(2 << 30) == "2GiB")
        #expect(ByteSize.text(3 << 29) == "1.5GiB")
        #expect(ByteSize.text(1000) == "1000 B")
        let fromFile = try Self.loader(["/c.json": #"{"kv_memory": "1GiB", "kv_cache_type": "f32", "max_batch_tokens": 256}"#])
            .load(arguments: ["--config", "/c.json"], environment: [:]).configuration
        #expect(fromFile.kvMemoryBytes == 1 << 30)
        #expect(fromFile.kvCacheType == "f32")
        #expect(fromFile.maxBatchTokens == 256)
        let numeric = try Self.loader(["/c.json": #"{"kv_memory": 1048576}"#])
            .load(arguments: ["--config", "/c.json"], environment: [:]).configuration
        #expect(numeric.kvMemoryBytes == 1 << 20)
        let layered = try Self.loader([:]).load(arguments: ["--max-running-sessions", "4"],
                                                environment: ["ENTROPYINFER_KV_MEMORY": "768MiB"]).configuration
        #expect(layered.kvMemoryBytes == 768 << 20)
        #expect(layered.maxRunningSessions == 4)
        #expect(throws: ConfigurationError("option --kv-memory: expected bytes 0 B…1TiB (e.g. 2GiB, 512MiB), got '2 parsecs'")) {
            try Self.loader([:]).load(arguments: ["--kv-memory", "2 parsecs"], environment: [:])
        }
    }

    @Test func configFileFromTheEnvironment() throws {
        let result = try Self.loader(["/c.json": #"{"log_level": "debug", "keep_alive_seconds": 2.5}"#]).load(
            arguments: [], environment: ["ENTROPYINFER_CONFIG": "/c.json"])
        #expect(result.configuration.logLevel == .debug)
        #expect(result.configuration.keepAliveSeconds == 2.5)
    }

    @Test func unknownFileKeysAreErrorsNamingTheKey() {
        #expect(throws: ConfigurationError("config file '/c.json': unknown key 'prot' (did you mean 'port'?) (known keys: " +
                                           ConfigurationTable.keys.filter(\.allowedInFile).map(\.name).joined(separator: ", ") + ")")) {
            try Self.loader(["/c.json": #"{"prot": 1}"#]).load(arguments: ["--config", "/c.json"], environment: [:])
        }
        #expect(throws: ConfigurationError.self) {
            try Self.loader(["/c.json": #"{"config": "/other.json"}"#]).load(arguments: ["--config", "/c.json"], environment: [:])
        }
    }

    @Test func badFilesSayWhatIsWrong() {
        func message(_ files: [String: String]) -> String {
            do {
                _ = try Self.loader(files).load(arguments: ["--config", "/c.json"], environment: [:])
                return "no error"
            } catch {
                return error.message
            }
        }
        #expect(message([:]).hasPrefix("cannot read config file '/c.json'"))
        #expect(message(["/c.json": "{\n  \"port\": 80,\n}"]).hasPrefix("config file '/c.json' is not valid JSON: "))
        #expect(message(["/c.json": "{\n  \"port\": 80,\n}"]).contains("line 3"))
        #expect(message(["/c.json": "[1]"]) == "config file '/c.json' must hold a JSON object of keys, not an array")
        #expect(message(["/c.json": #"{"port": "80"}"#]) == "config file '/c.json', key 'port': expected integer 0…65535, got \"80\"")
        #expect(message(["/c.json": #"{"port": 70000}"#]) == "config file '/c.json', key 'port': expected integer 0…65535, got 70000")
        #expect(message(["/c.json": #"{"log_level": "loud"}"#]).contains("expected one of error, warning, info, debug"))
        #expect(message(["/c.json": #"{"request_log": "yes"}"#]).contains("expected boolean"))
    }

    @Test func unknownEnvironmentVariablesAreWarningsOnly() throws {
        let result = try Self.loader([:]).load(arguments: [], environment: [
            "ENTROPYINFER_SERVICE_PORT": "tcp://10.0.0.1:80", "ENTROPYINFER_HOME": "/models", "ENTROPYINFER_E2E": "1",
            "PATH": "/bin",
        ])
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.contains("ENTROPYINFER_SERVICE_PORT") == true)
    }

    @Test func badEnvironmentValuesNameTheVariable() {
        #expect(throws: ConfigurationError("environment variable ENTROPYINFER_PORT: expected integer 0…65535, got 'tcp://10.0.0.1:8080' (this looks like a Kubernetes service-link variable; set enableServiceLinks: false in the pod spec)")) {
            try Self.loader([:]).load(arguments: [], environment: ["ENTROPYINFER_PORT": "tcp://10.0.0.1:8080"])
        }
        #expect(throws: ConfigurationError("environment variable ENTROPYINFER_REQUEST_LOG: expected boolean, got 'maybe'")) {
            try Self.loader([:]).load(arguments: [], environment: ["ENTROPYINFER_REQUEST_LOG": "maybe"])
        }
    }

    @Test func emptyEnvironmentValuesUnsetKeysWithoutDefault() throws {
        let result = try Self.loader([:]).load(arguments: [], environment: ["ENTROPYINFER_API_KEY": ""])
        #expect(result.configuration.apiKeys.isEmpty)
        #expect(throws: ConfigurationError.self) {
            try Self.loader([:]).load(arguments: [], environment: ["ENTROPYINFER_HOST": ""])
        }
    }

    @Test func flagsAreCheckedToo() {
        #expect(throws: ConfigurationError("unknown option '--prot' (did you mean '--port'?); see --help")) {
            try Self.loader([:]).load(arguments: ["--prot", "1"], environment: [:])
        }
        #expect(throws: ConfigurationError("option --port needs a value (N)")) {
            try Self.loader([:]).load(arguments: ["--port"], environment: [:])
        }
        #expect(throws: ConfigurationError("option --port: expected integer 0…65535, got '-3'")) {
            try Self.loader([:]).load(arguments: ["--port=-3"], environment: [:])
        }
        #expect(throws: ConfigurationError("unexpected argument 'extra'; options are written --name value (see --help)")) {
            try Self.loader([:]).load(arguments: ["extra"], environment: [:])
        }
        #expect(throws: ConfigurationError.self) {
            try Self.loader([:]).load(arguments: ["--no-port"], environment: [:])
        }
    }

    @Test func booleanFlagForms() throws {
        for (arguments, expected) in [(["--request-log"], true), (["--no-request-log"], false), (["--request-log=false"], false),
                                      (["--no-request-log", "--request-log=on"], true)] {
            #expect(try Self.loader([:]).load(arguments: arguments, environment: [:]).configuration.requestLog == expected)
        }
    }

    @Test func apiKeysFromValueAndFileAreRedacted() throws {
        let result = try Self.loader(["/keys": "# team keys\nsk-one\n\n  sk-two  \n"]).load(
            arguments: ["--api-key-file", "/keys"], environment: ["ENTROPYINFER_API_KEY": "sk-env"])
        let configuration = result.configuration
        #expect(configuration.apiKeys == ["sk-env", "sk-one", "sk-two"])
        let summary = configuration.redactedSummary().joined(separator: "\n")
        #expect(!summary.contains("sk-"))
        #expect(summary.contains("api_key = <redacted> (environment)"))
        #expect(summary.contains("api_key_file = /keys (flag) [2 keys]"))
        #expect(throws: ConfigurationError("api_key_file '/empty' contains no keys (one key per line)")) {
            try Self.loader(["/empty": "\n# nothing\n"]).load(arguments: ["--api-key-file", "/empty"], environment: [:])
        }
    }

    @Test func theTableIsConsistent() {
        let keys = ConfigurationTable.keys
        #expect(Set(keys.map(\.name)).count == keys.count)
        #expect(Set(keys.map(\.flag)).count == keys.count)
        #expect(Set(keys.map(\.environmentName)).count == keys.count)
        for name in Configuration.accessorKeys {
            #expect(ConfigurationTable.key(named: name) != nil, "accessor reads unknown key \(name)")
        }
        for key in keys {
            #expect(!key.help.isEmpty)
            #expect(key.name == key.name.lowercased())
            if let value = key.defaultValue {
                // Every default passes its own validation.
                #expect((try? ConfigurationLoader.validate(value, for: key)) != nil, "default of \(key.name)")
            }
        }
        #expect(ConfigurationTable.key(named: "aliases")?.flag == "--alias")
        #expect(ConfigurationTable.key(named: "context_length")?.environmentName == "ENTROPYINFER_CONTEXT_LENGTH")
    }

    @Test func helpListsEveryFlagWithEnvironmentAndDefault() {
        let help = ConfigurationDocumentation.helpText()
        for key in ConfigurationTable.keys {
            #expect(help.contains(key.flag))
            #expect(help.contains(key.environmentName))
        }
        #expect(help.contains("--port <N>\n        TCP port; 0 picks a free port and prints it. (env ENTROPYINFER_PORT,\n        default 8080)"))
        #expect(help.split(separator: "\n").allSatisfy { $0.count <= 80 })
        #expect(help.contains("--request-log, --no-request-log"))
    }

    @Test func generatedDocsAndExampleConfigAreUpToDate() throws {
        let root = TestModels.repositoryRoot
        let docs = try String(contentsOf: root.appendingPathComponent("docs/CONFIGURATION.md"), encoding: .utf8)
        #expect(docs == ConfigurationDocumentation.markdown(),
                "docs/CONFIGURATION.md is stale: run `swift run entropyinfer serve --print-config-docs > docs/CONFIGURATION.md`")
        let example = try String(contentsOf: root.appendingPathComponent("config/entropyinfer.json"), encoding: .utf8)
        #expect(example == ConfigurationDocumentation.exampleFile(),
                "config/entropyinfer.json is stale: run `swift run entropyinfer serve --print-config-example > config/entropyinfer.json`")
        // And the example loads.
        let result = try ConfigurationLoader().load(arguments: ["--config", root.appendingPathComponent("config/entropyinfer.json").path],
                                                    environment: [:])
        #expect(result.configuration.port == 8080)
    }

    @Test func serverOptionsFollowTheConfiguration() throws {
        let configuration = try Self.loader([:]).load(arguments: ["--api-key", "k", "--alias", "a", "--keep-alive-seconds", "0.5"],
                                                      environment: [:]).configuration
        let options = ServerOptions(configuration: configuration)
        #expect(options.apiKeys == ["k"])
        #expect(options.aliases == ["a"])
        #expect(options.keepAliveSeconds == 0.5)
    }
}
