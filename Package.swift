// swift-tools-version:6.0
// EntropyInfer: a CPU LLM inference server with an OpenAI-compatible API.
// The module map is in docs/ARCHITECTURE.md; dependencies point downward only.
import PackageDescription

/// Hot numeric modules trade Swift's overflow and bounds traps for speed in release builds;
/// every such loop is covered by a test against a checked reference.
let hotPathSettings: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]
/// The grammar matcher's trie walk reads its automaton's tables once per trie node (hundreds of
/// thousands per mask); release builds also drop the dynamic exclusivity checks on those class
/// properties. Debug builds keep every check (`swift test` without -c release runs with them).
let grammarSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

/// Modules whose unit tests reach internal types (`@testable import`) also in the release build
/// `make test` runs; -enable-testing only keeps internal symbols visible to the test bundle.
let testableInReleaseSettings: [SwiftSetting] = [.unsafeFlags(["-enable-testing"], .when(configuration: .release))]

let package = Package(
    name: "EntropyInfer",
    products: [
        .executable(name: "entropyinfer", targets: ["entropyinfer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C system libraries, found through pkg-config; scripts/install-system-deps.sh installs them.
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // C: what Swift cannot call (variadics, macros) and SIMD microkernels Swift cannot express.
        .target(name: "CShims", dependencies: ["CMicroHTTPD", "CJansson", "COpenBLAS"]),
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),

        // Swift modules, bottom-up.
        .target(name: "GGUF"),
        .target(name: "Kernels", dependencies: ["GGUF", "CKernels", "COpenBLAS", "CShims"], swiftSettings: hotPathSettings),
        .target(name: "Tokenization", dependencies: ["GGUF"], swiftSettings: hotPathSettings),
        .target(name: "KVMemory", dependencies: ["Kernels"], swiftSettings: hotPathSettings),
        .target(name: "Attention", dependencies: ["Kernels", "KVMemory", "CKernels"], swiftSettings: hotPathSettings),
        .target(name: "Models", dependencies: ["GGUF", "Kernels", "KVMemory", "Attention"], swiftSettings: hotPathSettings),
        .target(name: "Sampling", swiftSettings: hotPathSettings),
        .target(name: "ModelStore", dependencies: ["CZlib"]),
        .target(name: "JSON", dependencies: ["CJansson", "CShims"]),
        .target(name: "Grammar", dependencies: ["JSON", "Sampling"], swiftSettings: grammarSettings + testableInReleaseSettings),
        .target(name: "Engine", dependencies: ["Models", "Tokenization", "Sampling", "Grammar", "KVMemory", "Attention", "Kernels"]),
        .target(name: "Server", dependencies: ["Engine", "Attention", "KVMemory", "JSON", "Tokenization", "Sampling", "Grammar"],
                swiftSettings: testableInReleaseSettings),
        .target(name: "HTTPServer", dependencies: ["Server", "CMicroHTTPD", "CShims"]),
        .target(name: "LoadGeneration", dependencies: ["JSON"]),
        .target(name: "Evaluation", dependencies: ["Engine", "Models", "Tokenization", "Sampling", "KVMemory", "Attention", "Kernels", "GGUF", "JSON"]),
        .executableTarget(
            name: "entropyinfer",
            dependencies: [
                "Engine", "Models", "Tokenization", "Sampling", "ModelStore", "Server", "HTTPServer", "Kernels",
                "GGUF", "Attention", "KVMemory", "JSON", "LoadGeneration", "Evaluation", "Grammar",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Tests mirror the module tree. Model-backed tests find models through ENTROPYINFER_HOME
        // (the Makefile pulls them first); they fail with a clear message when a model is missing.
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "GGUF", "CKernels", "TestSupport"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "GGUF", "TestSupport"]),
        .testTarget(name: "KVMemoryTests", dependencies: ["KVMemory", "Kernels", "CKernels"]),
        .testTarget(name: "AttentionTests", dependencies: ["Attention", "KVMemory", "Kernels", "CKernels"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "GGUF", "Kernels", "KVMemory", "Attention", "Tokenization", "TestSupport"]),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling"]),
        .testTarget(name: "GrammarTests", dependencies: ["Grammar", "JSON", "Sampling", "Tokenization", "GGUF", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Attention", "Models", "Tokenization", "Sampling", "KVMemory", "Grammar", "TestSupport"]),
        .testTarget(name: "ModelStoreTests", dependencies: ["ModelStore"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "HTTPServer", "JSON", "Engine", "Attention", "KVMemory", "Sampling", "Tokenization", "TestSupport", "LoadGeneration", "Grammar"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "GGUF"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Engine", "Models", "Tokenization", "Attention", "KVMemory", "GGUF", "JSON", "TestSupport"]),
        // Shared test helpers: locating pulled models and the built binary, fixture loading.
        .target(name: "TestSupport", dependencies: ["GGUF"], path: "Tests/TestSupport"),
    ]
)
