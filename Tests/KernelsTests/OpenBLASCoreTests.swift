import Kernels
import Testing

@Suite struct OpenBLASCoreTests {
    let avx512: Set<String> = ["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni", "avx512bf16"]
    let avx2: Set<String> = ["avx2", "fma", "f16c"]

    @Test func decisions() {
        typealias D = OpenBLASCore.Decision
        func decide(_ env: [String: String], _ core: String, _ features: Set<String>) -> D {
            OpenBLASCore.decide(environment: env, coreName: core, cpuFeatures: features)
        }
        // The toolchain probe's case: Emerald Rapids seen as Prescott.
        #expect(decide([:], "Prescott", avx512) == .restart(coreType: "Cooperlake"))
        #expect(decide([:], "Prescott", avx512.subtracting(["avx512bf16"])) == .restart(coreType: "SkylakeX"))
        #expect(decide([:], "Prescott", avx2) == .restart(coreType: "Haswell"))
        // Recognised CPUs, user choices and a previous restart are left alone.
        #expect(decide([:], "Zen", avx2) == .keep)
        #expect(decide([:], "SkylakeX", avx512) == .keep)
        #expect(decide(["OPENBLAS_CORETYPE": "Prescott"], "Prescott", avx512) == .keep)
        #expect(decide([OpenBLASCore.restartMarker: "1"], "Prescott", avx512) == .keep)
        // A CPU without AVX2 keeps the generic kernels.
        #expect(decide([:], "Prescott", ["sse3"]) == .keep)
    }
}
