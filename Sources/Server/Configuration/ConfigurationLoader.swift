import Foundation
import JSON

/// A configuration problem the user must fix; the message names the file, variable or flag.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Builds the effective `Configuration` from its layers: table defaults < config file (JSON) <
/// `ENTROPYINFER_*` environment < command-line flags.
///
/// Unknown keys in the file and unknown flags are errors; unknown `ENTROPYINFER_*` variables are
/// warnings (Kubernetes injects `<SERVICE>_PORT`-style variables).
public struct ConfigurationLoader: Sendable {
    public typealias FileReader = @Sendable (String) throws -> [UInt8]

    private let readFile: FileReader

    public init(readFile: FileReader? = nil) {
        self.readFile = readFile ?? { path in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError("cannot read '\(path)': no such file or not readable")
            }
            return Array(data)
        }
    }

    public struct Result: Sendable {
        public var configuration: Configuration
        /// Things worth a warning line at start (unknown environment variables).
        public var warnings: [String]
    }

    public func load(arguments: [String], environment: [String: String]) throws(ConfigurationError) -> Result {
        let flagValues = try Self.parseFlags(arguments)
        var warnings: [String] = []
        var environmentValues: [(ConfigurationKey, ConfigurationValue?)] = []
        for (name, text) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(ConfigurationTable.environmentPrefix) {
            if let key = ConfigurationTable.keys.first(where: { $0.environmentName == name }) {
                environmentValues.append((key, try Self.parse(text, for: key, origin: "environment variable \(name)")))
            } else if ConfigurationTable.otherEnvironmentVariables[name] == nil {
                warnings.append("ignoring unknown environment variable \(name) (not a configuration key; see docs/CONFIGURATION.md)")
            }
        }

        var configuration = Configuration()
        let configFile = flagValues.last { $0.0.name == "config" }.flatMap { $0.1 }
            ?? environmentValues.last { $0.0.name == "config" }.flatMap { $0.1 }
        if case .string(let path)? = configFile {
            for (key, value) in try loadFile(path) { configuration.set(key.name, value, from: .file) }
        }
        for (key, value) in environmentValues { configuration.set(key.name, value, from: .environment) }
        for (key, value) in flagValues { configuration.set(key.name, value, from: .flag) }

        if let path = configuration.string("api_key_file") {
            configuration.fileAPIKeys = try loadKeyFile(path)
        }
        return Result(configuration: configuration, warnings: warnings)
    }

    // MARK: - Layers

    /// Flags: `--name value`, `--name=value`; booleans `--name`, `--no-name`, `--name=false`;
    /// list keys repeat the flag. Later flags win; a repeated list flag accumulates.
    static func parseFlags(_ arguments: [String]) throws(ConfigurationError) -> [(ConfigurationKey, ConfigurationValue?)] {
        var result: [(ConfigurationKey, ConfigurationValue?)] = []
        var lists: [String: [String]] = [:]
        var position = 0
        while position < arguments.count {
            let argument = arguments[position]
            position += 1
            guard argument.hasPrefix("--") else {
                throw ConfigurationError("unexpected argument '\(argument)'; options are written --name value (see --help)")
            }
            var flag = argument
            var inlineValue: String? = nil
            if let equals = argument.firstIndex(of: "=") {
                flag = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            if let key = ConfigurationTable.keys.first(where: { $0.flag == flag }) {
                if key.type == .boolean && inlineValue == nil {
                    result.append((key, .boolean(true)))
                    continue
                }
                let text: String
                if let inlineValue {
                    text = inlineValue
                } else {
                    guard position < arguments.count, !arguments[position].hasPrefix("--") else {
                        throw ConfigurationError("option \(flag) needs a value (\(key.valuePlaceholder))")
                    }
                    text = arguments[position]
                    position += 1
                }
                if key.type == .stringList {
                    lists[key.name, default: []].append(text)
                    result.append((key, .strings(lists[key.name]!)))
                } else {
                    result.append((key, try parse(text, for: key, origin: "option \(flag)")))
                }
            } else if flag.hasPrefix("--no-"),
                      let key = ConfigurationTable.keys.first(where: { $0.flag == "--" + flag.dropFirst(5) && $0.type == .boolean }),
                      inlineValue == nil {
                result.append((key, .boolean(false)))
            } else {
                throw ConfigurationError("unknown option '\(flag)'\(suggestion(for: flag, among: ConfigurationTable.keys.map(\.flag))); see --help")
            }
        }
        return result
    }

    func loadFile(_ path: String) throws(ConfigurationError) -> [(ConfigurationKey, ConfigurationValue?)] {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch {
            throw ConfigurationError("cannot read config file '\(path)': \(error)")
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw ConfigurationError("config file '\(path)' is not valid JSON: \(error.description)")
        }
        guard case .object(let object) = document else {
            throw ConfigurationError("config file '\(path)' must hold a JSON object of keys, not \(document.typeDescription)")
        }
        var result: [(ConfigurationKey, ConfigurationValue?)] = []
        for (name, value) in object {
            guard let key = ConfigurationTable.key(named: name), key.allowedInFile else {
                let known = ConfigurationTable.keys.filter(\.allowedInFile).map(\.name)
                throw ConfigurationError("config file '\(path)': unknown key '\(name)'\(Self.suggestion(for: name, among: known)) (known keys: \(known.joined(separator: ", ")))")
            }
            guard let parsed = try Self.parse(value, for: key, origin: "config file '\(path)', key '\(name)'") else { continue }
            result.append((key, parsed))
        }
        return result
    }

    func loadKeyFile(_ path: String) throws(ConfigurationError) -> [String] {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch {
            throw ConfigurationError("cannot read api_key_file '\(path)': \(error)")
        }
        let keys = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !keys.isEmpty else { throw ConfigurationError("api_key_file '\(path)' contains no keys (one key per line)") }
        return keys
    }

    // MARK: - Values

    /// A value from text (environment or flag). An empty text unsets a key that has no default.
    static func parse(_ text: String, for key: ConfigurationKey, origin: String) throws(ConfigurationError) -> ConfigurationValue? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty {
            if key.defaultValue == nil { return nil }
            if key.type == .stringList { return .strings([]) }
            throw ConfigurationError("\(origin): empty value; expected \(key.typeDescription)")
        }
        func invalid() -> ConfigurationError {
            var message = "\(origin): expected \(key.typeDescription), got '\(text)'"
            if trimmed.hasPrefix("tcp://") || trimmed.hasPrefix("udp://") {
                message += " (this looks like a Kubernetes service-link variable; set enableServiceLinks: false in the pod spec)"
            }
            return ConfigurationError(message)
        }
        switch key.type {
        case .string:
            return .string(text)
        case .integer(let range):
            guard let number = Int(trimmed), range.contains(number) else { throw invalid() }
            return .integer(number)
        case .number(let range):
            guard let number = Double(trimmed), number.isFinite, range.contains(number) else { throw invalid() }
            return .number(number)
        case .boolean:
            switch trimmed.lowercased() {
            case "true", "1", "yes", "on": return .boolean(true)
            case "false", "0", "no", "off": return .boolean(false)
            default: throw invalid()
            }
        case .stringList:
            return .strings(trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        case .choice(let choices):
            guard choices.contains(trimmed.lowercased()) else { throw invalid() }
            return .string(trimmed.lowercased())
        case .byteSize(let range):
            guard let bytes = ByteSize.parse(trimmed), range.contains(bytes) else { throw invalid() }
            return .integer(bytes)
        }
    }

    /// Checks a value (e.g. a table default) against the key's type and range.
    public static func validate(_ value: ConfigurationValue, for key: ConfigurationKey) throws(ConfigurationError) -> ConfigurationValue {
        guard let checked = try parse(value.json, for: key, origin: "value of '\(key.name)'") else {
            throw ConfigurationError("value of '\(key.name)' is null")
        }
        return checked
    }

    /// A value from the config file; `null` leaves the key as the layers below set it.
    static func parse(_ value: JSONValue, for key: ConfigurationKey, origin: String) throws(ConfigurationError) -> ConfigurationValue? {
        if value.isNull { return nil }
        func invalid() -> ConfigurationError {
            ConfigurationError("\(origin): expected \(key.typeDescription), got \(value.jsonText)")
        }
        switch key.type {
        case .string:
            guard let text = value.stringValue else { throw invalid() }
            return .string(text)
        case .integer(let range):
            guard let number = value.intValue, range.contains(number) else { throw invalid() }
            return .integer(number)
        case .number(let range):
            guard let number = value.doubleValue, range.contains(number) else { throw invalid() }
            return .number(number)
        case .boolean:
            guard let flag = value.boolValue else { throw invalid() }
            return .boolean(flag)
        case .stringList:
            if let text = value.stringValue { return .strings([text]) }
            guard let elements = value.arrayValue else { throw invalid() }
            var texts: [String] = []
            for element in elements {
                guard let text = element.stringValue else { throw invalid() }
                texts.append(text)
            }
            return .strings(texts)
        case .choice(let choices):
            guard let text = value.stringValue, choices.contains(text) else { throw invalid() }
            return .string(text)
        case .byteSize(let range):
            guard let bytes = value.intValue ?? value.stringValue.flatMap(ByteSize.parse), range.contains(bytes) else {
                throw invalid()
            }
            return .integer(bytes)
        }
    }

    /// " (did you mean 'x'?)" when a known name is within two edits.
    static func suggestion(for name: String, among candidates: [String]) -> String {
        let scored = candidates.map { ($0, editDistance(name, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= 2 else { return "" }
        return " (did you mean '\(best)'?)"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
