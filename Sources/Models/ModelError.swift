import GGUF

/// Why a model cannot be loaded or run, with what to do about it.
public enum ModelError: Error, CustomStringConvertible {
    case file(GGUFError)
    case unknownArchitecture(String, supported: [String])
    case invalidHyperparameter(key: String, message: String)
    case tensorShape(name: String, expected: [Int], found: [Int])
    case unsupportedTensorType(name: String, type: GGMLType)
    case unsupportedFeature(String)

    public var description: String {
        switch self {
        case .file(let error):
            return error.description
        case .unknownArchitecture(let name, let supported):
            return "unknown model architecture '\(name.displayable(limit: 80))'; supported: \(supported.joined(separator: ", "))"
        case .invalidHyperparameter(let key, let message):
            return "invalid model hyperparameter '\(key)': \(message)"
        case .tensorShape(let name, let expected, let found):
            return "tensor '\(name)' has shape \(found), expected \(expected) (the file does not match its metadata)"
        case .unsupportedTensorType(let name, let type):
            return "tensor '\(name)' has type \(type), which this build cannot compute with; supported: "
                + GGUFFile.supportedTensorTypes.map(\.name).joined(separator: ", ")
        case .unsupportedFeature(let message):
            return message
        }
    }
}
