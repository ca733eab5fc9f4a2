/// THE list of configuration keys. Adding a key is one line here; parsing (file, environment,
/// flags), `entropyinfer serve --help`, `docs/CONFIGURATION.md` and `config/entropyinfer.json`
/// follow from it. Precedence: defaults < config file < `ENTROPYINFER_*` environment < flags.
public enum ConfigurationTable {
    public static let environmentPrefix = "ENTROPYINFER_"

    public static let keys: [ConfigurationKey] = [
        .init("config", .string, default: nil, inFile: false,
              help: "JSON config file to read (keys as in this table); flags and environment override it."),
        .init("host", .string, default: .string("127.0.0.1"),
              help: "Address to listen on; 0.0.0.0 (or ::) listens on every interface, e.g. inside a container."),
        .init("port", .integer(0...65535), default: .integer(8080),
              help: "TCP port; 0 picks a free port and prints it."),
        .init("model", .string, default: .string("smollm2-135m-instruct"),
              help: "Catalog name (see `entropyinfer pull`) or path of a GGUF file."),
        .init("aliases", .stringList, default: .strings([]), flag: "--alias",
              help: "Extra names the model answers to in the `model` field; the first replaces the file stem as the listed id."),
        .init("api_key", .string, default: nil, secret: true,
              help: "Key clients must send (Authorization: Bearer or X-Api-Key); unset leaves the API open. /health and /metrics stay open."),
        .init("api_key_file", .string, default: nil,
              help: "File with accepted API keys, one per line (used together with api_key)."),
        .init("threads", .integer(0...1024), default: .integer(0),
              help: "Engine threads; 0 uses every core."),
        .init("context_length", .integer(0...16_777_216), default: .integer(0),
              help: "Context window in tokens; 0 uses the model's trained length, larger values are refused."),
        .init("max_queue", .integer(1...100_000), default: .integer(64),
              help: "Requests allowed to wait for the engine; beyond it requests get 503 with Retry-After."),
        .init("max_body_bytes", .integer(1024...2_147_483_647), default: .integer(16 * 1024 * 1024),
              help: "Largest request body accepted; larger bodies get 413."),
        .init("connection_limit", .integer(1...65_536), default: .integer(256),
              help: "Open connections at most (one thread each); further connections are refused."),
        .init("connection_timeout_seconds", .integer(1...86_400), default: .integer(120),
              help: "Idle or stalled connections are closed after this many seconds; never a request being worked on."),
        .init("keep_alive_seconds", .number(0.05...3600), default: .number(15),
              help: "A silent stream (long prompt processing) gets an SSE comment this often so clients and proxies keep it open."),
        .init("shutdown_timeout_seconds", .number(0...3600), default: .number(30),
              help: "On SIGTERM/SIGINT, running requests get this long to finish before they are cancelled."),
        .init("kv_memory", .byteSize(0...(1 << 40)), default: .integer(0),
              help: "KV cache budget of all sessions together (e.g. 2GiB); 0 sizes it for four full-context sessions, at most 8 GiB. Requests wait, and sessions are preempted and recomputed, when it is full; a prompt that can never fit gets a 400."),
        .init("kv_cache_type", .choice(["f16", "f32"]), default: .string("f16"),
              help: "Element type of cached keys and values: f16 (half the memory) or f32."),
        .init("activation_precision", .choice(["high", "balanced", "int8"]), default: .string("high"),
              help: "How quantized matrix kernels round activations: high (two int8 terms, ~15 bits, within 1e-5 nats of fp32), balanced (two terms only on the blocks at or above the row's mean energy: ~6e-4 nats; on Qwen2.5-Coder-0.5B 1.05x prompt processing, ~1.1x batched decode) or int8 (one term, as llama.cpp: ~3e-3 nats; 1.4x prompt processing, ~1.3x batched decode)."),
        .init("max_batch_tokens", .integer(16...65_536), default: .integer(512),
              help: "Tokens per engine step: one decode token for each running session, the rest prefill chunks. Larger steps prefill faster; smaller steps keep running streams smoother while a long prompt is processed."),
        .init("max_running_sessions", .integer(1...1024), default: .integer(16),
              help: "Requests generating at once (continuous batching); the rest wait in the queue (max_queue)."),
        .init("attention_policy", .choice(["dense", "reference", "entropy", "uniform"]), default: .string("entropy"),
              help: "Prefill attention of requests that name none (request field `attention`): dense, or a sparse policy of the entropy-guided method."),
        .init("attention_min_prompt_tokens", .integer(0...16_777_216), default: .integer(8192),
              help: "attention_policy applies to prompts of at least this many tokens; shorter ones run dense. A policy named in a request applies at any length."),
        .init("kv_compression_policy", .choice(["none", "streaming", "snapkv", "latent", "entropy"]), default: .string("entropy"),
              help: "KV cache compression during decoding for requests that name none (request field `kv_compression`): none, or a policy (see docs/CONFIGURATION.md)."),
        .init("kv_compression_budget", .integer(64...16_777_216), default: .integer(1024),
              help: "Mean KV entries kept per KV head and layer by kv_compression_policy."),
        .init("kv_compression_min_prompt_tokens", .integer(0...16_777_216), default: .integer(8192),
              help: "kv_compression_policy applies to prompts of at least this many tokens; shorter ones keep every entry. A policy named in a request applies at any length."),
        .init("request_log", .boolean, default: .boolean(true),
              help: "Log one line per request: method, path, status, tokens, duration."),
        .init("log_level", .choice(["error", "warning", "info", "debug"]), default: .string("info"),
              help: "Least severe log level written to standard error."),
    ]

    /// `ENTROPYINFER_*` variables that are not configuration keys but are read elsewhere; not
    /// warned about.
    public static let otherEnvironmentVariables: [String: String] = [
        "ENTROPYINFER_HOME": "Directory holding pulled models (`models/`); default ~/.cache/entropyinfer.",
        "ENTROPYINFER_E2E": "Set to 1 to run the end-to-end test suite against the built binary.",
        "ENTROPYINFER_LONG_TESTS": "Set to 1 to run the long-model tests (make test-long).",
        "ENTROPYINFER_BENCH": "Set to 1 to run the transport benchmark tests (ServerTests), which print their numbers.",
        "ENTROPYINFER_TEST_VENV": "Python virtualenv of the end-to-end suite (`make test-venv` creates .build/e2e-venv).",
    ]

    public static func key(named name: String) -> ConfigurationKey? { keys.first { $0.name == name } }
}
