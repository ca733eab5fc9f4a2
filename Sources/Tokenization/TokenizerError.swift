/// Why a vocabulary cannot be loaded from a GGUF file, with what to do about it.
public enum TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file has no usable vocabulary (no `tokenizer.ggml.tokens`, or an empty one).
    case missingVocabulary(path: String, key: String)
    /// `tokenizer.ggml.model` names a tokenizer this build does not implement.
    case unsupportedModel(path: String, model: String, supported: [String])
    /// `tokenizer.ggml.pre` names a pre-tokenizer this build does not implement.
    case unsupportedPreTokenizer(path: String, pre: String, supported: [String])
    /// A tokenizer key has the wrong type or an inconsistent value.
    case invalidValue(path: String, key: String, message: String)

    public var description: String {
        switch self {
        case .missingVocabulary(let path, let key):
            return "\(path) has no vocabulary: the metadata key '\(key)' is missing or empty (the file is not a complete model; re-convert it with llama.cpp's convert_hf_to_gguf.py)"
        case .unsupportedModel(let path, let model, let supported):
            return "\(path): tokenizer.ggml.model '\(model)' is not supported; supported tokenizer models: \(supported.joined(separator: ", "))"
        case .unsupportedPreTokenizer(let path, let pre, let supported):
            return "\(path): tokenizer.ggml.pre '\(pre)' is not supported; supported pre-tokenizers: \(supported.joined(separator: ", "))"
        case .invalidValue(let path, let key, let message):
            return "\(path): metadata key '\(key)' \(message) (the file may be corrupt; re-download or re-convert it)"
        }
    }
}
