import GGUF

/// A model's vocabulary as its GGUF file describes it: token texts, scores, types, merges, the
/// special token ids and the flags that say how to encode.
///
/// Reading follows llama.cpp's `llama_vocab::impl::load`: defaults per tokenizer model, keys
/// override them, out-of-range special ids are ignored, and the tokens that end generation are
/// found by id and by text (see `SpecialTokenRoles`).
public struct Vocabulary: Sendable {
    /// `tokenizer.ggml.model` values this build implements.
    public enum Model: String, Sendable, CaseIterable {
        /// Byte-level BPE (GPT-2 style): tokens are stored in GPT-2's byte-to-character mapping,
        /// merges come from `tokenizer.ggml.merges`, words from a pre-tokenizer regex.
        case bytePairEncoding = "gpt2"
        /// SentencePiece BPE: `▁` for spaces, token scores as merge priorities, `<0xNN>` byte fallback.
        case sentencePiece = "llama"

        var summary: String {
            switch self {
            case .bytePairEncoding: return "gpt2 (byte-level BPE)"
            case .sentencePiece: return "llama (SentencePiece BPE)"
            }
        }
    }

    public let path: String
    public let model: Model
    /// `tokenizer.ggml.pre`, if present.
    public let preName: String?
    /// The pre-tokenizer of a BPE vocabulary (nil for SentencePiece).
    public let preTokenizer: PreTokenizer.Selection?
    /// Token texts as stored (byte-level BPE texts use GPT-2's character mapping).
    public let tokens: [String]
    /// Merge priority of each token (SentencePiece); zeros when the file has none.
    public let scores: [Float]
    /// Type of each token, after llama.cpp's corrections (tokens that end generation are control).
    public let types: [TokenType]
    /// BPE merge rules, `"left right"`, highest priority first.
    public let merges: [String]

    public let bos: Int32?
    public let eos: Int32?
    public let eot: Int32?
    public let eom: Int32?
    public let unknown: Int32?
    public let padding: Int32?
    /// Whether encoding with special tokens prepends BOS / appends EOS.
    public let addBOS: Bool
    public let addEOS: Bool
    /// SentencePiece: a space is put before text that starts the input or follows a special token.
    public let addSpacePrefix: Bool
    /// Every token that ends generation.
    public let endOfGeneration: Set<Int32>

    public var count: Int { tokens.count }

    public static var supportedModels: [String] { Model.allCases.map(\.summary) }

    public init(file: GGUFFile) throws(TokenizerError) {
        try self.init(metadata: file.metadata, path: file.path)
    }

    /// Reads the vocabulary from GGUF metadata (`path` only names the source in errors).
    public init(metadata: [String: GGUFValue], path: String) throws(TokenizerError) {
        let reader = MetadataReader(metadata: metadata, path: path)
        self.path = path
        let modelName = try reader.string("tokenizer.ggml.model")
        guard let modelName else { throw .missingVocabulary(path: path, key: "tokenizer.ggml.model") }
        guard let model = Model(rawValue: modelName) else {
            throw .unsupportedModel(path: path, model: modelName, supported: Self.supportedModels)
        }
        self.model = model
        preName = try reader.string("tokenizer.ggml.pre")

        guard let tokens = try reader.strings("tokenizer.ggml.tokens"), !tokens.isEmpty else {
            throw .missingVocabulary(path: path, key: "tokenizer.ggml.tokens")
        }
        self.tokens = tokens
        let count = tokens.count
        if let scores = try reader.floats("tokenizer.ggml.scores") {
            guard scores.count >= count else {
                throw .invalidValue(path: path, key: "tokenizer.ggml.scores",
                                    message: "has \(scores.count) entries for \(count) tokens")
            }
            self.scores = Array(scores.prefix(count))
        } else {
            scores = [Float](repeating: 0, count: count)
        }
        var types: [TokenType]
        if let rawTypes = try reader.integers("tokenizer.ggml.token_type") {
            guard rawTypes.count >= count else {
                throw .invalidValue(path: path, key: "tokenizer.ggml.token_type",
                                    message: "has \(rawTypes.count) entries for \(count) tokens")
            }
            types = rawTypes.prefix(count).map(TokenType.init(fileValue:))
        } else {
            types = [TokenType](repeating: .normal, count: count)
        }

        var addBOS: Bool
        var addSpacePrefix: Bool
        var defaults: (bos: Int32?, eos: Int32?, unknown: Int32?)
        switch model {
        case .bytePairEncoding:
            guard let merges = try reader.strings("tokenizer.ggml.merges") else {
                throw .missingVocabulary(path: path, key: "tokenizer.ggml.merges")
            }
            self.merges = merges
            guard let selection = PreTokenizer.select(preName: preName) else {
                throw .unsupportedPreTokenizer(path: path, pre: preName ?? "", supported: PreTokenizer.supportedNames)
            }
            preTokenizer = selection
            addBOS = selection.addsBOSByDefault
            // llama.cpp reads add_space_prefix for BPE too but never adds the space when
            // encoding; decoding must not strip one either, so it stays off.
            addSpacePrefix = false
            defaults = (nil, nil, nil)
        case .sentencePiece:
            merges = []
            preTokenizer = nil
            addBOS = true
            addSpacePrefix = try reader.bool("tokenizer.ggml.add_space_prefix") ?? true
            defaults = (1, 2, 0)
        }
        addBOS = try reader.bool("tokenizer.ggml.add_bos_token") ?? addBOS
        addEOS = try reader.bool("tokenizer.ggml.add_eos_token") ?? false
        self.addBOS = addBOS
        self.addSpacePrefix = addSpacePrefix

        func specialID(_ key: String, default fallback: Int32? = nil) throws(TokenizerError) -> Int32? {
            let inRange = { (id: Int32?) in id.flatMap { $0 >= 0 && Int($0) < count ? $0 : nil } }
            guard let value = try reader.integer(key) else { return inRange(fallback) }
            return inRange(Int32(exactly: value)) ?? inRange(fallback)
        }
        bos = try specialID("tokenizer.ggml.bos_token_id", default: defaults.bos)
        eos = try specialID("tokenizer.ggml.eos_token_id", default: defaults.eos)
        unknown = try specialID("tokenizer.ggml.unknown_token_id", default: defaults.unknown)
        padding = try specialID("tokenizer.ggml.padding_token_id")
        let roles = SpecialTokenRoles(
            tokens: tokens, types: &types, eos: eos,
            eot: try specialID("tokenizer.ggml.eot_token_id"),
            eom: try specialID("tokenizer.ggml.eom_token_id"),
            fimPad: try specialID("tokenizer.ggml.fim_pad_token_id"),
            fimRepository: try specialID("tokenizer.ggml.fim_rep_token_id"),
            fimSeparator: try specialID("tokenizer.ggml.fim_sep_token_id"))
        eot = roles.eot
        eom = roles.eom
        endOfGeneration = roles.endOfGeneration
        self.types = types
    }

    /// Ids, roles and flags as `SpecialTokens`.
    public var specialTokens: SpecialTokens {
        SpecialTokens(bos: bos, eos: eos, eot: eot, unknown: unknown, padding: padding,
                      endOfGeneration: endOfGeneration, addBOS: addBOS && bos != nil, addEOS: addEOS && eos != nil)
    }
}

/// Typed access to optional metadata keys: nil when absent, an error naming the key when the
/// value has the wrong type.
private struct MetadataReader {
    let metadata: [String: GGUFValue]
    let path: String

    func string(_ key: String) throws(TokenizerError) -> String? {
        guard let value = metadata[key] else { return nil }
        guard let string = value.stringValue else { throw wrongType(key, "a string", value) }
        return string
    }

    func bool(_ key: String) throws(TokenizerError) -> Bool? {
        guard let value = metadata[key] else { return nil }
        guard let bool = value.boolValue else { throw wrongType(key, "a bool", value) }
        return bool
    }

    func integer(_ key: String) throws(TokenizerError) -> Int? {
        guard let value = metadata[key] else { return nil }
        guard let int = value.intValue else { throw wrongType(key, "an integer", value) }
        return int
    }

    func strings(_ key: String) throws(TokenizerError) -> [String]? {
        guard let value = metadata[key] else { return nil }
        guard let strings = value.arrayValue?.strings else { throw wrongType(key, "an array of strings", value) }
        return strings
    }

    func floats(_ key: String) throws(TokenizerError) -> [Float]? {
        guard let value = metadata[key] else { return nil }
        guard let floats = value.arrayValue?.floats else { throw wrongType(key, "an array of numbers", value) }
        return floats
    }

    func integers(_ key: String) throws(TokenizerError) -> [Int]? {
        guard let value = metadata[key] else { return nil }
        guard let integers = value.arrayValue?.integers else { throw wrongType(key, "an array of integers", value) }
        return integers
    }

    private func wrongType(_ key: String, _ expected: String, _ value: GGUFValue) -> TokenizerError {
        .invalidValue(path: path, key: key, message: "should be \(expected) but is \(value.typeName)")
    }
}
