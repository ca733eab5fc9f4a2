import JSON

/// Text generated from `ConfigurationTable`: the options part of `serve --help`, the table in
/// `docs/CONFIGURATION.md` and the example file `config/entropyinfer.json`.
public enum ConfigurationDocumentation {
    /// Option lines for `--help`.
    public static func helpText() -> String {
        var lines: [String] = []
        for key in ConfigurationTable.keys {
            var flag = key.flag
            if key.type == .boolean {
                flag = "\(key.flag), --no-\(key.flag.dropFirst(2))"
            } else {
                flag += " <\(key.valuePlaceholder)>"
            }
            var details = "env \(key.environmentName)"
            if let value = key.defaultValue, value != .strings([]) { details += ", default \(value)" }
            if key.type == .stringList { details += ", repeatable" }
            lines.append("  \(flag)\n" + wrap("\(key.help) (\(details))", indent: 8, width: 80))
        }
        return lines.joined(separator: "\n")
    }

    /// Word-wraps `text` to `width` columns, every line indented by `indent` spaces.
    static func wrap(_ text: String, indent: Int, width: Int) -> String {
        let prefix = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && prefix.count + line.count + 1 + word.count > width {
                lines.append(prefix + line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        if !line.isEmpty { lines.append(prefix + line) }
        return lines.joined(separator: "\n")
    }

    /// The Markdown document `docs/CONFIGURATION.md` (a test keeps the file equal to this).
    public static func markdown() -> String {
        var text = """
        # Configuration

        <!-- Generated from Sources/Server/Configuration/ConfigurationTable.swift by
             `entropyinfer serve --print-config-docs`; a test fails when this file is stale. -->

        `entropyinfer serve` reads each setting from, in increasing precedence: the built-in default,
        the JSON config file (`--config FILE` or `ENTROPYINFER_CONFIG`), the `ENTROPYINFER_*`
        environment variable, and the command-line flag. The effective configuration is logged once
        at start, with secrets shown as `<redacted>`.

        - Unknown keys in the config file are errors that name the key. A key set to `null` in the file
          is left as the lower layers set it. `config/entropyinfer.json` lists every key at its default.
        - Unknown `ENTROPYINFER_*` variables are logged as warnings and otherwise ignored (Kubernetes
          injects `<SERVICE>_PORT`-style variables; set `enableServiceLinks: false`).
        - Lists are JSON arrays in the file, comma-separated in the environment, and a repeated flag on
          the command line. Booleans accept `true/false/1/0/yes/no/on/off` in the environment and
          `--flag`, `--no-flag`, `--flag=false` on the command line. An empty environment value unsets
          a key that has no default.


        """
        text += "| Key (file) | Environment | Flag | Type | Default | Description |\n"
        text += "|---|---|---|---|---|---|\n"
        for key in ConfigurationTable.keys {
            let defaultText: String
            if let value = key.defaultValue {
                defaultText = value == .strings([]) ? "`[]`" : "`\(value)`"
            } else {
                defaultText = "unset"
            }
            let keyText = key.allowedInFile ? "`\(key.name)`" : "— (`\(key.name)`, not in the file)"
            text += "| \(keyText) | `\(key.environmentName)` | `\(key.flag)` | \(key.typeDescription) | \(defaultText) | \(escape(key.help)) |\n"
        }
        text += "\nOther environment variables read by EntropyInfer (not configuration keys):\n\n"
        for (name, help) in ConfigurationTable.otherEnvironmentVariables.sorted(by: { $0.key < $1.key }) {
            text += "- `\(name)`: \(help)\n"
        }
        return text
    }

    /// A config file with every file key at its default (`null` where unset).
    public static func exampleFile() -> String {
        var object = JSONObject()
        for key in ConfigurationTable.keys where key.allowedInFile {
            object[key.name] = key.defaultValue?.json ?? .null
        }
        return JSONValue.object(object).prettyPrinted() + "\n"
    }

    private static func escape(_ text: String) -> String {
        text.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
    }
}
