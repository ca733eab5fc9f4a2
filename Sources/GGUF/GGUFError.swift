/// Everything that can be wrong with a GGUF file, each with a message a user can act on.
public enum GGUFError: Error, Equatable, CustomStringConvertible {
    case fileNotFound(path: String)
    case io(path: String, message: String)
    case notGGUF(path: String, magic: UInt32)
    case unsupportedVersion(path: String, version: UInt32)
    case truncated(path: String, needed: Int, available: Int, context: String)
    case corrupt(path: String, message: String)
    case missingKey(path: String, key: String)
    case wrongValueType(path: String, key: String, expected: String, found: String)
    case missingTensor(path: String, name: String)
    case unsupportedTensorType(path: String, tensor: String, typeID: UInt32)

    public var description: String {
        func shown(_ text: String) -> String { text.displayable(limit: 160) }
        switch self {
        case .fileNotFound(let path):
            return "model file not found: \(path)"
        case .io(let path, let message):
            return "cannot read \(path): \(message)"
        case .notGGUF(let path, let magic):
            return "\(path) is not a GGUF file (magic 0x\(String(magic, radix: 16)), expected 0x46554747 \"GGUF\")"
        case .unsupportedVersion(let path, let version):
            return "\(path) has GGUF version \(version); supported versions are 2 and 3"
        case .truncated(let path, let needed, let available, let context):
            return "\(path) is truncated or corrupt: \(shown(context)) needs \(needed) bytes but only \(available) remain (re-download the file)"
        case .corrupt(let path, let message):
            return "\(path) is corrupt: \(message.displayable(limit: 400)) (re-download the file)"
        case .missingKey(let path, let key):
            return "\(path) lacks the metadata key '\(shown(key))'"
        case .wrongValueType(let path, let key, let expected, let found):
            return "\(path): metadata key '\(shown(key))' should be \(expected) but is \(found)"
        case .missingTensor(let path, let name):
            return "\(path) lacks the tensor '\(shown(name))'"
        case .unsupportedTensorType(let path, let tensor, let typeID):
            let name = GGMLType(rawValue: typeID)?.name ?? "unknown type id \(typeID)"
            return "\(path): tensor '\(shown(tensor))' has type \(name), which this build cannot compute with; supported: "
                + GGUFFile.supportedTensorTypes.map(\.name).joined(separator: ", ")
        }
    }
}

extension String {
    /// The text with control characters replaced and cut to `limit` characters: names read from
    /// a damaged file can be megabytes of binary, and error messages must stay readable.
    public func displayable(limit: Int) -> String {
        var result = ""
        for scalar in unicodeScalars {
            if result.unicodeScalars.count >= limit { return result + "…" }
            result.unicodeScalars.append(scalar.value < 0x20 || scalar.value == 0x7F ? "?" : scalar)
        }
        return result
    }
}
