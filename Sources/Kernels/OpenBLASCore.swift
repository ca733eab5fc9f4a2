import CKernels
import CShims
import Foundation

/// Makes OpenBLAS use the kernels this CPU deserves.
///
/// OpenBLAS picks its kernel set ("core") once, when the library loads, from its own CPU table.
/// Debian's 0.3.21 does not know recent CPUs (e.g. Emerald Rapids) and falls back to generic
/// SSE3 kernels ("Prescott"), 4-5× slower for SGEMM than `OPENBLAS_CORETYPE=Cooperlake`. The fix
/// must happen before the library loads, so the process re-executes itself once with the
/// variable set. A value the user or the environment set is never overridden.
public enum OpenBLASCore {
    public enum Decision: Equatable, Sendable {
        case keep
        /// Restart the process with `OPENBLAS_CORETYPE` set to this core.
        case restart(coreType: String)
    }

    /// Environment variable that marks a restart, so it happens at most once.
    public static let restartMarker = "ENTROPYINFER_OPENBLAS_CORE_SELECTED"

    /// Cores OpenBLAS uses for CPUs it does not recognise, or that predate AVX2.
    static let preAVX2Cores: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "sandybridge", "katmai", "coppermine",
        "northwood", "banias", "atom", "barcelona", "opteron", "opteron_sse3", "bobcat", "bulldozer",
        "piledriver", "steamroller", "excavator", "unknown",
    ]
    static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

    /// Pure decision: what to do given the environment, OpenBLAS's core name and the CPU's
    /// features (names as `ei_cpu_features` prints them).
    public static func decide(environment: [String: String], coreName: String, cpuFeatures: Set<String>) -> Decision {
        if environment["OPENBLAS_CORETYPE"] != nil || environment[restartMarker] != nil { return .keep }
        let core = coreName.lowercased()
        let hasAVX512 = ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(cpuFeatures.contains)
        let hasAVX2 = cpuFeatures.contains("avx2") && cpuFeatures.contains("fma")
        if hasAVX512 && !avx512Cores.contains(core) && (preAVX2Cores.contains(core) || core == "haswell" || core == "zen") {
            return .restart(coreType: cpuFeatures.contains("avx512bf16") ? "Cooperlake" : "SkylakeX")
        }
        if hasAVX2 && preAVX2Cores.contains(core) {
            return .restart(coreType: "Haswell")
        }
        return .keep
    }

    /// Called first thing in `main`: applies `decide` to this process. On `.restart` it re-executes
    /// the same binary with the same arguments (and does not return); otherwise it keeps OpenBLAS
    /// to one thread (our own pool does the parallel work) and returns.
    public static func selectForThisProcess() {
        let environment = ProcessInfo.processInfo.environment
        let coreName = String(cString: shim_openblas_corename())
        let features = Set(String(cString: ei_cpu_features()).split(separator: " ").map(String.init))
        switch decide(environment: environment, coreName: coreName, cpuFeatures: features) {
        case .keep:
            shim_openblas_set_threads(1)
        case .restart(let coreType):
            FileHandle.standardError.write(Data(
                "entropyinfer: OpenBLAS chose its generic '\(coreName)' kernels on a CPU with \(features.contains("avx512f") ? "AVX-512" : "AVX2"); restarting with OPENBLAS_CORETYPE=\(coreType)\n".utf8))
            setenv("OPENBLAS_CORETYPE", coreType, 1)
            setenv(restartMarker, "1", 1)
            let arguments = CommandLine.arguments
            var pointers = arguments.map { strdup($0) } + [nil]
            execv("/proc/self/exe", &pointers)
            // exec failed: carry on with the generic kernels.
            shim_openblas_set_threads(1)
        }
    }
}
