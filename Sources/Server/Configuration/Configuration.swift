/// The effective configuration: every key of `ConfigurationTable` with its value and where the
/// value came from. Built by `ConfigurationLoader`; typed accessors for the keys the server and
/// CLI use live below, and any key can be read by name (`integer("kv_memory")`).
public struct Configuration: Sendable {
    public enum Source: String, Sendable {
        case defaultValue = "default"
        case file
        case environment
        case flag
    }

    public private(set) var values: [String: ConfigurationValue] = [:]
    public private(set) var sources: [String: Source] = [:]
    /// Keys read from `api_key_file` (not printed).
    public internal(set) var fileAPIKeys: [String] = []

    /// Every key at its default.
    public init() {
        for key in ConfigurationTable.keys {
            if let value = key.defaultValue { set(key.name, value, from: .defaultValue) }
        }
    }

    mutating func set(_ name: String, _ value: ConfigurationValue?, from source: Source) {
        if let value {
            values[name] = value
            sources[name] = source
        } else {
            values[name] = nil
            sources[name] = source
        }
    }

    public subscript(name: String) -> ConfigurationValue? { values[name] }

    public func string(_ name: String) -> String? {
        if case .string(let text)? = values[name] { return text }
        return nil
    }

    public func integer(_ name: String) -> Int? {
        if case .integer(let number)? = values[name] { return number }
        return nil
    }

    public func number(_ name: String) -> Double? {
        switch values[name] {
        case .number(let number)?: return number
        case .integer(let number)?: return Double(number)
        default: return nil
        }
    }

    public func boolean(_ name: String) -> Bool? {
        if case .boolean(let flag)? = values[name] { return flag }
        return nil
    }

    public func strings(_ name: String) -> [String] {
        if case .strings(let texts)? = values[name] { return texts }
        return []
    }

    /// One line per key, `name = value (source)`, secrets shown as `<redacted>`.
    public func redactedSummary() -> [String] {
        ConfigurationTable.keys.map { key in
            let shown: String
            if let value = values[key.name] {
                shown = key.isSecret ? "<redacted>" : (value.description.isEmpty ? "\"\"" : value.description)
            } else {
                shown = "(unset)"
            }
            var line = "\(key.name) = \(shown) (\(sources[key.name]?.rawValue ?? "default"))"
            if key.name == "api_key_file", !fileAPIKeys.isEmpty { line += " [\(fileAPIKeys.count) keys]" }
            return line
        }
    }

    // MARK: - Typed accessors (keys of ConfigurationTable; a test checks each name exists)

    public var host: String { string("host") ?? "127.0.0.1" }
    public var port: Int { integer("port") ?? 8080 }
    public var model: String? { string("model") }
    public var aliases: [String] { strings("aliases") }
    /// Every accepted API key: `api_key` plus the lines of `api_key_file`. Empty: no auth.
    public var apiKeys: [String] { (string("api_key").map { [$0] } ?? []) + fileAPIKeys }
    public var threads: Int { integer("threads") ?? 0 }
    /// 0: the model's trained context length.
    public var contextLength: Int { integer("context_length") ?? 0 }
    /// KV memory in MiB; 0: the engine's default.
    public var maxQueue: Int { integer("max_queue") ?? 64 }
    public var maxBodyBytes: Int { integer("max_body_bytes") ?? 16 * 1024 * 1024 }
    public var connectionLimit: Int { integer("connection_limit") ?? 256 }
    public var connectionTimeoutSeconds: Int { integer("connection_timeout_seconds") ?? 120 }
    public var keepAliveSeconds: Double { number("keep_alive_seconds") ?? 15 }
    public var shutdownTimeoutSeconds: Double { number("shutdown_timeout_seconds") ?? 30 }
    public var requestLog: Bool { boolean("request_log") ?? true }
    /// 0: sized for four full-context sessions (at most 8 GiB).
    public var kvMemoryBytes: Int { integer("kv_memory") ?? 0 }
    public var kvCacheType: String { string("kv_cache_type") ?? "f16" }
    public var activationPrecision: String { string("activation_precision") ?? "high" }
    public var maxBatchTokens: Int { integer("max_batch_tokens") ?? 512 }
    public var maxRunningSessions: Int { integer("max_running_sessions") ?? 16 }
    public var attentionPolicy: String { string("attention_policy") ?? "entropy" }
    public var attentionMinPromptTokens: Int { integer("attention_min_prompt_tokens") ?? 8192 }
    public var kvCompressionPolicy: String { string("kv_compression_policy") ?? "entropy" }
    public var kvCompressionBudget: Int { integer("kv_compression_budget") ?? 1024 }
    public var kvCompressionMinPromptTokens: Int { integer("kv_compression_min_prompt_tokens") ?? 8192 }
    public var logLevel: LogLevel { string("log_level").flatMap(LogLevel.init(rawValue:)) ?? .info }

    /// Names of the keys the typed accessors read (checked against the table by a test).
    public static let accessorKeys = [
        "host", "port", "model", "aliases", "api_key", "api_key_file", "threads", "context_length", "max_queue",
        "max_body_bytes", "connection_limit", "connection_timeout_seconds", "keep_alive_seconds",
        "shutdown_timeout_seconds", "request_log", "log_level", "attention_policy", "attention_min_prompt_tokens",
        "kv_memory", "kv_cache_type", "max_batch_tokens", "max_running_sessions", "activation_precision",
        "kv_compression_policy", "kv_compression_budget", "kv_compression_min_prompt_tokens",
    ]
}
