/// How a byte-level BPE vocabulary splits text into words before merging, chosen by the GGUF key
/// `tokenizer.ggml.pre`.
///
/// Each case is the regex (or sequence of regexes) llama.cpp's `llm_tokenizer_bpe` lists for it,
/// implemented as a hand-written scanner (`PreTokenizerScanner`): a Swift `Regex` is far too slow
/// for 100K-token prompts.
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llama3
    /// Qwen2: the Llama 3 regex with single digits (`\p{N}` instead of `\p{N}{1,3}`).
    case qwen2
    /// Qwen3.5: the Qwen2 regex with combining marks (`\p{M}`) counted as letters.
    case qwen35
    /// SmolLM / StarCoder: every `\p{N}` character isolated, then the GPT-2 regex.
    case digitsThenGPT2
    /// llama.cpp's fallback for BPE files without `tokenizer.ggml.pre`: punctuation runs
    /// (`[\p{P}\$\+<=>\^~\|]+`) isolated, the GPT-2 regex, `\p{N}+` runs, then ASCII digit triples.
    case legacyDefault

    /// What a `tokenizer.ggml.pre` value selects, and the vocabulary defaults that come with it.
    public struct Selection: Sendable, Equatable {
        public var preTokenizer: PreTokenizer
        /// A word that is itself a token is emitted whole without merging (HF `ignore_merges`).
        public var ignoresMerges: Bool
        /// Whether BOS is added when the file has no `tokenizer.ggml.add_bos_token` key.
        public var addsBOSByDefault: Bool

        public init(preTokenizer: PreTokenizer, ignoresMerges: Bool, addsBOSByDefault: Bool) {
            self.preTokenizer = preTokenizer
            self.ignoresMerges = ignoresMerges
            self.addsBOSByDefault = addsBOSByDefault
        }
    }

    /// `tokenizer.ggml.pre` values this build understands, grouped as llama.cpp groups them.
    public static let namesByPreTokenizer: [(PreTokenizer, [String])] = [
        (.gpt2, ["gpt-2", "phi-2", "mpt", "olmo", "jais", "exaone4", "gigachat", "a.x-4.0", "mellum", "trillion",
                 "granite-docling", "jina-es", "jina-de", "jina-v2-es", "jina-v2-de"]),
        (.llama3, ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                   "dbrx", "smaug-bpe"]),
        (.qwen2, ["qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan", "megrez", "kormo", "f2llmv2", "grok-2",
                  "solar-open"]),
        (.qwen35, ["qwen35"]),
        (.digitsThenGPT2, ["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b",
                           "mellum2"]),
        (.legacyDefault, ["default"]),
    ]

    /// The pre-tokenizer for a `tokenizer.ggml.pre` value (nil: the key is absent), or nil when
    /// the value is not supported.
    public static func select(preName: String?) -> Selection? {
        guard let name = preName, !name.isEmpty else {
            return Selection(preTokenizer: .legacyDefault, ignoresMerges: false, addsBOSByDefault: false)
        }
        for (preTokenizer, names) in namesByPreTokenizer where names.contains(name) {
            // llama.cpp's LLAMA3 group (not dbrx/smaug) ignores merges and adds BOS.
            let llama3Family = preTokenizer == .llama3 && name != "dbrx" && name != "smaug-bpe"
            return Selection(preTokenizer: preTokenizer, ignoresMerges: llama3Family, addsBOSByDefault: llama3Family)
        }
        return nil
    }

    public static var supportedNames: [String] { namesByPreTokenizer.flatMap(\.1) }

    /// The words `text` splits into (for tests and diagnostics; encoding uses `split`).
    public func words(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { bytes in
            var buffer = ScalarBuffer()
            buffer.load(bytes)
            var ends: [Int] = []
            var scratch: [Int] = []
            split(buffer, into: &ends, scratch: &scratch)
            var start = 0
            return ends.map { end in
                defer { start = end }
                let range = buffer.byteOffsets[start]..<buffer.byteOffsets[end]
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            }
        }
    }

    /// Splits one text fragment into words: appends to `wordEnds` the scalar index (into
    /// `buffer`) where each word ends, in order. Words cover the fragment without gaps.
    func split(_ buffer: ScalarBuffer, into wordEnds: inout [Int], scratch: inout [Int]) {
        let count = buffer.count
        guard count > 0 else { return }
        buffer.scalars.withUnsafeBufferPointer { scalars in
            buffer.flags.withUnsafeBufferPointer { flags in
                switch self {
                case .gpt2:
                    PreTokenizerScanner(scalars: scalars, flags: flags).gpt2(0..<count, into: &wordEnds)
                case .llama3:
                    PreTokenizerScanner(scalars: scalars, flags: flags).llama3(0..<count, maxDigits: 3, into: &wordEnds)
                case .qwen2:
                    PreTokenizerScanner(scalars: scalars, flags: flags).llama3(0..<count, maxDigits: 1, into: &wordEnds)
                case .qwen35:
                    PreTokenizerScanner(scalars: scalars, flags: flags)
                        .llama3(0..<count, maxDigits: 1, wordClass: UnicodeCategories.letter | UnicodeCategories.mark,
                                into: &wordEnds)
                case .digitsThenGPT2:
                    let scanner = PreTokenizerScanner(scalars: scalars, flags: flags)
                    scratch.removeAll(keepingCapacity: true)
                    scanner.isolateRuns(0..<count, maxRun: 1, into: &scratch) { _, flags in
                        flags & UnicodeCategories.number != 0
                    }
                    var start = 0
                    for end in scratch {
                        scanner.gpt2(start..<end, into: &wordEnds)
                        start = end
                    }
                case .legacyDefault:
                    PreTokenizerScanner(scalars: scalars, flags: flags).legacyDefault(0..<count, into: &wordEnds,
                                                                                       scratch: &scratch)
                }
            }
        }
    }
}
