import Foundation
import JSON

/// A configuration value after parsing.
public enum ConfigurationValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case number(Double)
    case boolean(Bool)
    case strings([String])

    public var description: String {
        switch self {
        case .string(let text): return text
        case .integer(let number): return String(number)
        case .number(let number): return number.rounded() == number ? String(Int(number)) : number.description
        case .boolean(let flag): return flag ? "true" : "false"
        case .strings(let texts): return texts.joined(separator: ",")
        }
    }

    public var json: JSONValue {
        switch self {
        case .string(let text): return .string(text)
        case .integer(let number): return .int(number)
        case .number(let number): return .double(number)
        case .boolean(let flag): return .bool(flag)
        case .strings(let texts): return .array(texts.map { .string($0) })
        }
    }
}

/// One configuration key: its name in the config file, its environment variable and flag (both
/// derived from the name), type, default and help. `ConfigurationTable.keys` lists them all;
/// parsing, `--help`, the docs table and the example file are generated from that list.
public struct ConfigurationKey: Sendable {
    public enum ValueType: Sendable, Equatable {
        case string
        case integer(ClosedRange<Int>)
        case number(ClosedRange<Double>)
        case boolean
        /// A list: a JSON array (or one string) in the file, comma-separated in the environment,
        /// the flag repeated on the command line.
        case stringList
        case choice([String])
        /// A size in bytes: a number of bytes, or a number with a binary unit (`512MiB`, `2G`,
        /// `1.5GiB`; K, M, G and T are powers of 1024 with or without `i`/`B`). Stored as bytes.
        case byteSize(ClosedRange<Int>)
    }

    /// The JSON key, e.g. `context_length`.
    public let name: String
    public let type: ValueType
    /// nil: unset unless given (the help says what unset means).
    public let defaultValue: ConfigurationValue?
    public let help: String
    /// Redacted wherever configuration is printed.
    public let isSecret: Bool
    /// False for keys that only make sense outside the file (the path of the file itself).
    public let allowedInFile: Bool
    /// `--context-length`; a different spelling when given (e.g. `--alias` for `aliases`).
    public let flag: String

    public init(_ name: String, _ type: ValueType, default defaultValue: ConfigurationValue?, secret: Bool = false,
                inFile: Bool = true, flag: String? = nil, help: String) {
        self.name = name; self.type = type; self.defaultValue = defaultValue; self.help = help
        self.isSecret = secret; self.allowedInFile = inFile
        self.flag = flag ?? "--" + name.replacingOccurrences(of: "_", with: "-")
    }

    /// `ENTROPYINFER_CONTEXT_LENGTH`.
    public var environmentName: String { ConfigurationTable.environmentPrefix + name.uppercased() }

    /// Placeholder for the value in help text.
    public var valuePlaceholder: String {
        switch type {
        case .string: return name.hasSuffix("file") || name == "config" ? "FILE" : "TEXT"
        case .integer: return "N"
        case .number: return "SECONDS"
        case .boolean: return ""
        case .stringList: return "NAME"
        case .choice(let choices): return choices.joined(separator: "|")
        case .byteSize: return "BYTES"
        }
    }

    public var typeDescription: String {
        switch type {
        case .string: return "string"
        case .integer(let range): return "integer \(range.lowerBound)…\(range.upperBound)"
        case .number(let range):
            return "number \(ConfigurationValue.number(range.lowerBound))…\(ConfigurationValue.number(range.upperBound))"
        case .boolean: return "boolean"
        case .stringList: return "list of strings"
        case .choice(let choices): return "one of " + choices.joined(separator: ", ")
        case .byteSize(let range):
            return "bytes \(ByteSize.text(range.lowerBound))…\(ByteSize.text(range.upperBound)) (e.g. 2GiB, 512MiB)"
        }
    }
}
